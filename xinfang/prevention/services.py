"""矛盾纠纷排查台账 services: one function per state change of a dispute.

Each: guard (policy, state, field rules → Chinese ``DomainError`` with the field) → conditional
UPDATE on the state where two clerks may race → ``DisputeEvent`` → notifications. Views, the
API, screening reports (``screening.py``) and informant reports (``informants.py``) call these.

States: 化解中 (open) → 报请销号 → 待审核销号 (pending) → 审核通过 → 已销号 (struck), or 退回 →
化解中. A struck-off item stays in the register (history), read-only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from xinfang.core.errors import DomainError, PermissionDenied
from xinfang.core.text import clean_line, clean_text
from xinfang.org import roles as R
from xinfang.org.models import Unit
from xinfang.org.policy import posts_of
from xinfang.prevention import rubric
from xinfang.prevention.models import (
    Dispute,
    DisputeCounter,
    DisputeEvent,
    DisputeSource,
    RiskLevel,
)

TITLE_MAX = 100
TEXT_MAX = 5000


def beijing_today(at: dt.datetime | None = None) -> dt.date:
    return timezone.localtime(at or timezone.now()).date()


def next_number(year: int) -> str:
    """Gap-free per year: the counter row is incremented inside the caller's transaction."""
    DisputeCounter.objects.get_or_create(year=year)
    DisputeCounter.objects.filter(year=year).update(last=F("last") + 1)
    last = DisputeCounter.objects.values_list("last", flat=True).get(year=year)
    return f"MD{year}-{last:05d}"


def add_event(
    dispute: Dispute,
    kind: str,
    by: Any,
    *,
    text: str = "",
    data: dict[str, Any] | None = None,
    report: Any = None,
    at: dt.datetime | None = None,
) -> DisputeEvent:
    unit_id = None
    if by is not None:
        posts = posts_of(by)
        own = [p for p in posts if p.unit_id == dispute.unit_id] or posts
        unit_id = own[0].unit_id if own else None
    return DisputeEvent.objects.create(
        dispute=dispute,
        kind=kind,
        actor=by,
        actor_unit_id=unit_id,
        at=at or timezone.now(),
        text=text,
        data=data or {},
        report=report,
    )


def answers_for(unit: Unit, place_unit: Unit) -> bool:
    """May ``unit`` be responsible for a dispute at ``place_unit``? The place itself, a unit
    above or below it on its branch, or a sibling of one above it (a district department)."""
    if place_unit.path.startswith(unit.path) or unit.path.startswith(place_unit.path):
        return True
    if unit.parent_id is None:
        return False
    parent_path = str(Unit.objects.values_list("path", flat=True).get(pk=unit.parent_id))
    return place_unit.path.startswith(parent_path)


def _may_register(by: Any, unit: Unit, place_unit: Unit) -> bool:
    """Who may put an item in the register: a reporter (staff or 信息员) of the place or the
    responsible unit, or a reader whose scope holds either (the office registering it)."""
    from xinfang.prevention.policy import READERS, REPORTERS, in_scope

    for p in posts_of(by):
        if p.role in REPORTERS and p.unit_id in (unit.pk, place_unit.pk):
            return True
    return in_scope(by, unit.pk, READERS) or in_scope(by, place_unit.pk, READERS)


def dispute_create(
    by: Any,
    *,
    title: str,
    description: str,
    source: str,
    parties: str,
    place_unit: Unit,
    unit: Unit,
    risk_level: str,
    headcount: int = 1,
    due_on: dt.date | None = None,
    category: Any = None,
    owner: Any = None,
    leader: Any = None,
    plan: str = "",
    place_text: str = "",
    source_note: str = "",
    round_report: Any = None,
    informant_report: Any = None,
    case: Any = None,
    petitioners: Iterable[Any] = (),
    group: Any = None,
    idempotency_key: str | None = None,
    at: dt.datetime | None = None,
) -> Dispute:
    """Register an item. With ``idempotency_key`` a resent form returns the first item.
    ``due_on`` defaults to the rubric's days for the level."""
    if idempotency_key:
        existing = Dispute.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    now = at or timezone.now()
    title = clean_line(title or "")
    description = clean_text(description or "")
    parties = clean_text(parties or "")
    if not title:
        raise DomainError("请填写纠纷名称", field="title")
    if len(title) > TITLE_MAX:
        raise DomainError(f"纠纷名称不能超过{TITLE_MAX}字", field="title")
    if not description:
        raise DomainError("请填写纠纷的基本情况", field="description")
    if len(description) > TEXT_MAX:
        raise DomainError(f"基本情况不能超过{TEXT_MAX}字", field="description")
    if not parties:
        raise DomainError("请填写当事人（每行一方）", field="parties")
    if source not in DisputeSource.values:
        raise DomainError("请选择纠纷来源", field="source")
    if risk_level not in RiskLevel.values:
        raise DomainError("请选择风险等级", field="risk_level")
    if headcount < 1:
        raise DomainError("涉及人数至少为1", field="headcount")
    if not unit.is_active or not place_unit.is_active:
        raise DomainError("所选单位已停用", field="unit")
    if not answers_for(unit, place_unit):
        raise DomainError("责任单位应为发生地所属单位或其上级、同级主管部门", field="unit")
    today = beijing_today(now)
    if due_on is None:
        due_on = today + dt.timedelta(days=rubric.BY_LEVEL[risk_level].due_days)
    if due_on < today:
        raise DomainError("化解期限不能早于今天", field="due_on")
    if not _may_register(by, unit, place_unit):
        raise PermissionDenied("您不能为该单位登记矛盾纠纷")
    try:
        with transaction.atomic():
            dispute = Dispute.objects.create(
                number=next_number(today.year),
                title=title,
                description=description,
                source=source,
                source_note=clean_line(source_note or "")[:200],
                round_report=round_report,
                informant_report=informant_report,
                case=case,
                parties=parties,
                headcount=headcount,
                group=group,
                place_unit=place_unit,
                place_text=clean_line(place_text or "")[:200],
                category=category,
                risk_level=risk_level,
                unit=unit,
                owner=owner,
                leader=leader,
                plan=clean_text(plan or ""),
                due_on=due_on,
                created_by=by,
                created_at=now,
                idempotency_key=idempotency_key or None,
            )
            people = list(petitioners)
            if people:
                dispute.petitioners.set(people)
            add_event(
                dispute,
                "create",
                by,
                at=now,
                report=round_report,
                data={"source": source, "risk_level": risk_level},
            )
    except IntegrityError:
        if idempotency_key:
            existing = Dispute.objects.filter(idempotency_key=idempotency_key).first()
            if existing is not None:
                return existing
        raise
    _notify_new(dispute)
    return dispute


def _notify_new(dispute: Dispute) -> None:
    """The responsible person, the 包案 leader and the unit's heads learn of a new item; a high
    or critical one also reaches the leaders over the unit."""
    from xinfang.notify.services import leaders_over, notify, unit_staff

    people: list[Any] = [dispute.owner, dispute.leader]
    people += list(unit_staff(dispute.unit, {R.UNIT_HEAD}))
    if dispute.risk_level in (RiskLevel.HIGH, RiskLevel.CRITICAL):
        people += list(leaders_over(dispute.unit))
    notify(
        [p for p in people if p is not None],
        kind="dispute",
        title=f"新增矛盾纠纷（风险{dispute.get_risk_level_display()}）：{dispute.title}",
        url=f"/prevention/disputes/{dispute.pk}/",
        dedupe_key=f"dispute-new-{dispute.pk}",
    )
