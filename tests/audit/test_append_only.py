"""The database itself refuses to change or remove audit rows (migration 0003's triggers)."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from tests.audit.tamper import chain, suspended
from xinfang.audit import triggers
from xinfang.audit.models import AuditEntry, AuditHead
from xinfang.audit.services import audit_record

pytestmark = pytest.mark.django_db


def test_triggers_are_installed_by_migrations() -> None:
    assert triggers.installed(connection)


def _refused(sql: str) -> str:
    with (
        pytest.raises((DatabaseError, IntegrityError)) as err,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    return str(err.value)


def test_plain_update_is_refused() -> None:
    chain(3)
    message = _refused("UPDATE audit_auditentry SET summary = '改过' WHERE seq = 2")
    assert "审计记录只能追加，不允许修改或删除" in message
    assert AuditEntry.objects.get(seq=2).summary == "第2次操作"


def test_plain_delete_is_refused() -> None:
    chain(3)
    message = _refused("DELETE FROM audit_auditentry WHERE seq = 3")
    assert "审计记录只能追加" in message
    assert AuditEntry.objects.count() == 3


def test_orm_update_and_delete_are_refused() -> None:
    entry = chain(1)[0]
    entry.summary = "改过"
    with pytest.raises((DatabaseError, IntegrityError)), transaction.atomic():
        entry.save()
    with pytest.raises((DatabaseError, IntegrityError)), transaction.atomic():
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.get().summary == "第1次操作"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE is PostgreSQL's")
def test_truncate_is_refused_on_postgresql() -> None:
    chain(2)
    assert "审计记录只能追加" in _refused("TRUNCATE audit_auditentry")


def test_head_stays_updatable_and_appends_continue() -> None:
    chain(2)
    entry = audit_record(action="logout", summary="再来一条")
    head = AuditHead.objects.get(pk=1)
    assert (head.seq, head.hash) == (3, entry.hash)


def test_suspended_lifts_the_triggers_for_the_block_only() -> None:
    chain(2)
    with suspended(connection):
        assert not triggers.installed(connection)
        AuditEntry.objects.filter(seq=1).update(summary="改过")
    assert triggers.installed(connection)
    assert AuditEntry.objects.get(seq=1).summary == "改过"
    _refused("DELETE FROM audit_auditentry")
