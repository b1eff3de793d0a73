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
from collections.abc import Callable
from typing import Any

from django.db import connection, transaction
from django.dispatch import Signal

log = logging.getLogger(__name__)

case_registered = Signal()
# Sent after the commit of a 交办/转送: ``case``, ``unit`` (the chosen handling unit), ``by``,
# ``action`` ("assign" or "forward"), ``at`` (the routing event's time).
case_routed = Signal()


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
    _send(case_registered, "case_registered", case)


def announce_routed(case: Any, *, unit: Any, by: Any, action: str, at: Any) -> None:
    _send(case_routed, "case_routed", case, unit=unit, by=by, action=action, at=at)
