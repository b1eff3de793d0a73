"""Concurrent writers keep one valid chain with consecutive ``seq``; commits are shared with the
change; ``flush`` between transactional tests works despite the append-only triggers."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, connections, transaction

from tests.conftest import World, registration
from tests.threads import in_threads, needs_server_db
from xinfang.audit import triggers
from xinfang.audit.models import AuditEntry, AuditHead
from xinfang.audit.selectors import verify_chain
from xinfang.audit.services import audit_record
from xinfang.cases.models import CaseEvent
from xinfang.cases.registration import case_register


@needs_server_db
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_writers_keep_one_consecutive_valid_chain() -> None:
    per_thread = 25

    def work(i: int) -> list[int]:
        seqs = []
        for k in range(per_thread):
            with transaction.atomic():
                entry = audit_record(action="login", actor=f"线程{i}", summary=f"{i}-{k}")
                seqs.append(entry.seq)
        return seqs

    results = in_threads(8, work)
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors
    written = sorted(s for r in results for s in r)
    assert written == list(range(1, 8 * per_thread + 1))
    assert list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True)) == written
    assert AuditHead.objects.get(pk=1).seq == 8 * per_thread
    result = verify_chain(batch=37)
    assert result.ok, result.report.findings
    assert result.report.checked == 8 * per_thread


@needs_server_db
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_registrations_audit_each_case_once(world: World) -> None:
    before = AuditEntry.objects.count()

    def work(i: int) -> Any:
        return case_register(by=world.rita, office=world.office, reg=registration())

    results = in_threads(6, work)
    assert not [r for r in results if isinstance(r, BaseException)], results
    audited = AuditEntry.objects.filter(action="case_event", seq__gt=before)
    assert sorted(e.detail["event_id"] for e in audited) == sorted(
        CaseEvent.objects.values_list("pk", flat=True)
    )
    assert verify_chain().ok


@needs_server_db
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_audit_row_is_invisible_to_others_until_the_change_commits() -> None:
    """Another connection sees neither the change's audit row nor the head move before commit."""
    seen: dict[str, Any] = {}
    inside = threading.Event()
    checked = threading.Event()

    def writer() -> None:
        try:
            with transaction.atomic():
                audit_record(action="export", summary="导出")
                inside.set()
                checked.wait(timeout=10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=writer)
    thread.start()
    assert inside.wait(timeout=10)
    seen["during"] = AuditEntry.objects.filter(action="export").count()
    checked.set()
    thread.join(timeout=10)
    seen["after"] = AuditEntry.objects.filter(action="export").count()
    assert seen == {"during": 0, "after": 1}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_flush_between_transactional_tests_keeps_the_triggers() -> None:
    """This test commits rows; pytest-django's flush afterwards must work (the ``flush``
    override lifts the triggers) and leave them installed — checked by the next test."""
    audit_record(action="login", summary="提交的记录")
    assert AuditEntry.objects.count() == 1
    assert triggers.installed(connection)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_after_flush_triggers_are_back_and_chain_restarts() -> None:
    assert AuditEntry.objects.count() == 0
    assert triggers.installed(connection)
    entry = audit_record(action="login", summary="新链")
    assert entry.seq == 1
    assert verify_chain().ok
