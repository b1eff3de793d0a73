"""Test helpers that tamper with the audit log behind the application's back.

The append-only triggers refuse every UPDATE/DELETE, so each helper lifts them for its own
statement only (``xinfang.audit.triggers.suspended``) — the way an intruder with the database
owner's rights would — and puts them back.
"""

from __future__ import annotations

from typing import Any

from django.db import connection

from xinfang.audit.chain import entry_hash
from xinfang.audit.models import AuditEntry
from xinfang.audit.triggers import suspended

__all__ = ["chain", "delete", "forge", "modify", "suspended", "swap"]


def chain(n: int, actor: Any = None) -> list[AuditEntry]:
    """``n`` real rows written by the application (``audit_record``)."""
    from xinfang.audit.services import audit_record

    actions = ["login", "case_event", "admin_change", "role_grant", "logout"]
    return [
        audit_record(
            action=actions[i % len(actions)],
            actor=actor,
            object_type="case",
            object_id=str(100 + i),
            summary=f"第{i + 1}次操作",
            detail={"i": i},
            ip="10.0.0.1",
        )
        for i in range(n)
    ]


def modify(seq: int, **fields: Any) -> None:
    with suspended(connection):
        assert AuditEntry.objects.filter(seq=seq).update(**fields) == 1


def delete(*seqs: int) -> None:
    with suspended(connection):
        AuditEntry.objects.filter(seq__in=seqs).delete()


def swap(a: int, b: int) -> None:
    """Exchange two rows' positions (their ``seq`` values); ``seq`` is unique, so via -a."""
    with suspended(connection):
        AuditEntry.objects.filter(seq=a).update(seq=-a)
        AuditEntry.objects.filter(seq=b).update(seq=a)
        AuditEntry.objects.filter(seq=-a).update(seq=b)


def forge(seq: int, prev_hash: str, **overrides: Any) -> AuditEntry:
    """A row with a self-consistent hash (INSERT is allowed: no trigger needed)."""
    from django.utils import timezone

    fields: dict[str, Any] = {
        "seq": seq,
        "at": timezone.now(),
        "actor_id": None,
        "actor_name": "伪造者",
        "action": "login",
        "object_type": "",
        "object_id": "",
        "summary": "伪造的记录",
        "detail": {},
        "ip": "",
        "prev_hash": prev_hash,
    }
    fields.update(overrides)
    entry = AuditEntry(**fields, hash=entry_hash(**fields))
    entry.save(force_insert=True)
    return entry
