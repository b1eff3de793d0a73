"""Signals other apps listen to, so ``cases`` never imports them (intel, statistics …).

``case_registered`` is sent once per newly registered case, *after* the registering transaction
has committed (never for an idempotent replay). Receivers get ``case`` (the saved :class:`Case`).
``case_routed`` likewise after a 交办/转送 has committed.
A receiver's failure must not undo a registration that has already committed; receivers that keep
derived data (indexes) therefore also offer a catch-up command for cases they missed.

All receivers of one sending run in **one** transaction (one commit instead of one per receiver:
the clerk waits for them), each in its own savepoint (``isolated`` below), so a failing receiver
rolls back only its own writes. On PostgreSQL a lock wait is capped (``LOCK_TIMEOUT``): a
receiver that would wait longer fails and is caught up later, the clerk does not wait.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import connection, transaction
from django.dispatch import Signal

log = logging.getLogger(__name__)

case_registered = Signal()
# Sent after the commit of a 交办/转送: ``case``, ``unit`` (the chosen handling unit), ``by``,
# ``action`` ("assign" or "forward"), ``at`` (the routing event's time).
case_routed = Signal()
# Sent once at the end of ``registrations_in_bulk`` with ``case_ids`` (the cases registered in
# the block, whose ``case_registered`` was held back): receivers do the same work in batches.
cases_bulk_registered = Signal()
# Sent *inside* the transaction of an 评价 / 办结 (``case``, ``event``, ``by``): receivers'
# writes commit or roll back with the change itself (xinfang.followup: the 不满意 review task,
# the 回访 schedule). A receiver's error aborts the change — keep them small.
case_evaluated = Signal()
# Sent *inside* the registration transaction by the staff registration form when the clerk came
# from a desk visit (接待台): ``case``, ``visit_id`` (int, unchecked), ``by``. xinfang.reception
# links the visit to the case.
desk_case_registered = Signal()
case_closed = Signal()

_bulk: ContextVar[list[int] | None] = ContextVar("xinfang_bulk_registrations", default=None)


LOCK_TIMEOUT = "2s"


def isolated(receiver: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a receiver so that its writes are one savepoint of the sending transaction. Connect
    the wrapper with ``weak=False`` (nothing else holds a reference to it)."""

    def run(sender: Any, **kwargs: Any) -> None:
        with transaction.atomic():
            receiver(sender, **kwargs)

    run.__name__ = run.__qualname__ = getattr(receiver, "__qualname__", "receiver")
    return run


def _send(signal: Signal, name: str, case: Any, **kwargs: Any) -> None:
    """A failing receiver is logged, never raised to the clerk (the change has committed)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        results = signal.send_robust(sender=type(case), case=case, **kwargs)
    for receiver, result in results:
        if isinstance(result, Exception):
            log.error("%s receiver %r failed for case %s", name, receiver, case.pk, exc_info=result)


def announce_registered(case: Any) -> None:
    pending = _bulk.get()
    if pending is not None:
        pending.append(case.pk)
        return
    _send(case_registered, "case_registered", case)


@contextmanager
def registrations_in_bulk() -> Iterator[None]:
    """For bulk loads (the demo, imports of old records): inside the block ``case_registered``
    is held back; at its end — also after an error, for the cases already committed —
    ``cases_bulk_registered`` is sent once with their ids. Indexes built in batches cost a small
    part of one-at-a-time work. Per-case side effects that only make sense at the desk (the
    suggestion shown to the clerk, for a registration or a 交办/转送) are not recorded for such
    cases: ``case_routed`` is not sent inside the block."""
    token = _bulk.set([])
    try:
        yield
    finally:
        ids = _bulk.get() or []
        _bulk.reset(token)
        if ids:
            for receiver, result in cases_bulk_registered.send_robust(sender=None, case_ids=ids):
                if isinstance(result, Exception):
                    log.error(
                        "cases_bulk_registered receiver %r failed for %d cases",
                        receiver,
                        len(ids),
                        exc_info=result,
                    )


def announce_routed(case: Any, *, unit: Any, by: Any, action: str, at: Any) -> None:
    if _bulk.get() is not None:  # a bulk load: nobody was shown a suggestion to compare with
        return
    _send(case_routed, "case_routed", case, unit=unit, by=by, action=action, at=at)
