"""Reads of the audit log: who may read it, the filtered list, and verifying the chain."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from xinfang.audit.chain import Report, Verifier
from xinfang.audit.models import AuditEntry, AuditHead
from xinfang.org import roles as R
from xinfang.org.policy import role_codes

BATCH = 2000


def is_auditor(user: Any) -> bool:
    """审计员 anywhere in the tree; nobody else reads the log (not even 系统管理员)."""
    return bool(getattr(user, "is_authenticated", False)) and R.AUDITOR in role_codes(user)


@dataclass(frozen=True)
class AuditFilter:
    action: str = ""
    actor: str = ""
    object_type: str = ""
    object_id: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    q: str = ""


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def entries(f: AuditFilter) -> QuerySet[AuditEntry]:
    """Newest first; every filter narrows (dates are local days, both ends included)."""
    qs = AuditEntry.objects.order_by("-seq")
    if f.action:
        qs = qs.filter(action=f.action)
    if f.actor:
        qs = qs.filter(actor_name__icontains=f.actor)
    if f.object_type:
        qs = qs.filter(object_type=f.object_type)
    if f.object_id:
        qs = qs.filter(object_id=f.object_id)
    if f.date_from:
        qs = qs.filter(at__gte=_day_start(f.date_from))
    if f.date_to:
        qs = qs.filter(at__lt=_day_start(f.date_to + dt.timedelta(days=1)))
    if f.q:
        qs = qs.filter(summary__icontains=f.q)
    return qs


def object_types() -> list[str]:
    return list(
        AuditEntry.objects.exclude(object_type="")
        .order_by("object_type")
        .values_list("object_type", flat=True)
        .distinct()
    )


@dataclass
class Verification:
    report: Report
    head_seq: int
    start_seq: int

    @property
    def ok(self) -> bool:
        return self.report.ok

    def summary(self) -> str:
        if self.ok:
            return f"审计日志校验通过：共{self.report.checked}条，链头#{self.head_seq}"
        return (
            f"审计日志校验未通过：检查{self.report.checked}条，链头#{self.head_seq}，"
            f"发现{len(self.report.findings)}处问题"
        )


def _head() -> tuple[int, str]:
    from xinfang.audit.chain import GENESIS

    head = AuditHead.objects.filter(pk=1).values_list("seq", "hash").first()
    return (int(head[0]), str(head[1])) if head else (0, GENESIS)


def _rows(start_seq: int, batch: int) -> Iterator[AuditEntry]:
    """Every row from ``start_seq`` in ``seq`` order, streamed (no full list in memory)."""
    return AuditEntry.objects.filter(seq__gte=start_seq).order_by("seq").iterator(chunk_size=batch)


def verify_chain(start_seq: int = 1, batch: int = BATCH) -> Verification:
    """Walk the chain in ``seq`` order in batches. The head is read before the walk (rows
    above it may be appends made meanwhile) and again after it (the one judged against)."""
    from xinfang.audit.chain import GENESIS

    start_seq = max(1, start_seq)
    floor, _ = _head()
    start_prev = GENESIS
    if start_seq > 1:
        before = (
            AuditEntry.objects.filter(seq__lt=start_seq)
            .order_by("-seq")
            .values_list("seq", "hash")
            .first()
        )
        if before is not None:
            start_prev = before[1]
            start_seq = min(start_seq, int(before[0]) + 1)
        else:
            start_seq = 1
    verifier = Verifier(floor=floor, start_seq=start_seq, start_prev=start_prev)
    for row in _rows(start_seq, batch):
        verifier.feed(row)
    head_seq, head_hash = _head()
    return Verification(verifier.finish(head_seq, head_hash), head_seq, start_seq)
