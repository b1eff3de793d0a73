"""Registration (登记) on every channel: the first service of a case's life."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from xinfang.cases import deadlines
from xinfang.cases.models import (
    Case,
    CaseCounter,
    CaseEvent,
    CasePetitioner,
    Category,
    Channel,
    DeadlineKind,
    PetitionerRole,
    Purpose,
    Status,
)
from xinfang.cases.policy import may_register
from xinfang.core.errors import DomainError, PermissionDenied
from xinfang.org.models import Unit
from xinfang.people.models import Petitioner, PetitionerGroup
from xinfang.people.services import PetitionerInput, clean_petitioner, petitioner_resolve

MAX_REPRESENTATIVES = 5
COLLECTIVE_HEADCOUNT = 5
FUTURE_TOLERANCE = dt.timedelta(minutes=5)
QUERY_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read out over a phone
QUERY_CODE_LENGTH = 10
WRITTEN_CHANNELS = {Channel.LETTER, Channel.ONLINE, Channel.EMAIL, Channel.FAX}


@dataclass
class Registration:
    channel: str
    purpose: str
    summary: str
    petitioners: list[PetitionerInput]
    received_at: dt.datetime
    content: str = ""
    category_id: int | None = None
    place_code: str = ""
    place_name: str = ""
    headcount: int = 1
    representatives: list[PetitionerInput] = field(default_factory=list)
    group_name: str = ""
    related_to_id: int | None = None
    skip_level: bool = False


def _clean(reg: Registration, now: dt.datetime) -> None:
    if reg.channel not in Channel.values:
        raise DomainError("请选择来源渠道", field="channel")
    if reg.purpose not in Purpose.values:
        raise DomainError("请选择信访目的（建议意见 / 检举控告 / 申诉求决）", field="purpose")
    if not reg.summary.strip():
        raise DomainError("请填写诉求摘要", field="summary")
    if len(reg.summary) > 300:
        raise DomainError(f"诉求摘要最多300字，当前{len(reg.summary)}字", field="summary")
    if timezone.is_naive(reg.received_at):
        reg.received_at = timezone.make_aware(reg.received_at)
    if reg.received_at > now + FUTURE_TOLERANCE:
        shown = timezone.localtime(reg.received_at).strftime("%Y-%m-%d %H:%M")
        raise DomainError(f"收到时间 {shown} 晚于当前时间，请核对", field="received_at")
    if reg.headcount < 1:
        raise DomainError("人数至少为1", field="headcount")
    if len(reg.representatives) > MAX_REPRESENTATIVES:
        raise DomainError(
            f"集体访最多登记{MAX_REPRESENTATIVES}名代表（当前{len(reg.representatives)}名），"
            "其余人员计入人数即可",
            field="representatives",
        )
    if not reg.petitioners and not reg.representatives:
        raise DomainError("请至少登记一名信访人", field="petitioners")
    people = len(reg.petitioners) + len(reg.representatives)
    if reg.headcount < people:
        reg.headcount = people
    if reg.category_id and not Category.objects.filter(pk=reg.category_id).exists():
        raise DomainError("内容分类不存在，请重新选择", field="category")


def _next_number(unit: Unit, year: int) -> str:
    """Gap-free per unit and year: the counter row is incremented inside the registration's
    transaction, so a rolled-back registration gives its number back. The UPDATE takes the row
    (PostgreSQL) or database (SQLite, IMMEDIATE) write lock, serialising concurrent clerks."""
    updated = CaseCounter.objects.filter(unit=unit, year=year).update(last=F("last") + 1)
    if not updated:
        try:
            with transaction.atomic():
                CaseCounter.objects.create(unit=unit, year=year, last=1)
        except IntegrityError:
            CaseCounter.objects.filter(unit=unit, year=year).update(last=F("last") + 1)
    seq = CaseCounter.objects.get(unit=unit, year=year).last
    return f"XF-{unit.effective_division_code()}-{year}-{seq:06d}"


def _new_query_code() -> str:
    while True:
        code = "".join(secrets.choice(QUERY_CODE_ALPHABET) for _ in range(QUERY_CODE_LENGTH))
        if not Case.objects.filter(query_code=code).exists():
            return code


def _earlier_case(people: list[Petitioner], group: PetitionerGroup | None, reg: Registration):  # type: ignore[no-untyped-def]
    """The latest earlier case of the same person or group about the same matter (category)."""
    if reg.related_to_id:
        return Case.objects.filter(pk=reg.related_to_id).first()
    if not reg.category_id:
        return None
    qs = Case.objects.filter(category_id=reg.category_id)
    if group is not None:
        by_group = qs.filter(group=group).order_by("-received_at").first()
        if by_group is not None:
            return by_group
    if people:
        return qs.filter(parties__petitioner__in=people).order_by("-received_at").first()
    return None


def _is_skip_level(office: Unit, reg: Registration, people: list[Petitioner]) -> bool:
    """越级: the clerk says so, or the matter's place has its own petition office below this one
    and none of these people has petitioned there first."""
    if reg.skip_level:
        return True
    if not reg.place_code:
        return False
    # The office is often a department beside the lower offices (区信访局 and 东湖街道 are both
    # children of the district), so search the jurisdiction it serves, not its own subtree.
    jurisdiction = office
    while not jurisdiction.division_code and jurisdiction.parent is not None:
        jurisdiction = jurisdiction.parent
    lower = (
        Unit.objects.filter(
            division_code=reg.place_code,
            is_petition_office=True,
            path__startswith=jurisdiction.path,
        )
        .exclude(pk__in=[office.pk, jurisdiction.pk])
        .first()
    )
    if lower is None:
        return False
    return not Case.objects.filter(office_unit=lower, parties__petitioner__in=people).exists()


def case_register(
    *,
    by: Any,
    office: Unit,
    reg: Registration,
    idempotency_key: str | None = None,
    at: dt.datetime | None = None,
) -> Case:
    """Register a case.

    Guard: ``by`` is 接待员/办案员 of ``office``, a petition office; fields valid (ID check
    digits, ≤5 representatives, received time not in the future).
    Effect: petitioners found or created; number issued gap-free; flags 重复/越级/集体/联名
    derived; the 15-day routing deadline opened.
    Event: ``register``. Idempotent: a repeated ``idempotency_key`` returns the first case.
    """
    # Permission first: a replayed key must not hand a case to someone who may not register.
    if not may_register(by, office):
        raise PermissionDenied("您没有在该信访机构登记信访事项的权限")
    if idempotency_key:
        existing = Case.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    now = at or timezone.now()
    _clean(reg, now)
    cleaned = [clean_petitioner(p, prefix=f"p{i}_") for i, p in enumerate(reg.petitioners)]
    cleaned_reps = [clean_petitioner(p, prefix=f"r{i}_") for i, p in enumerate(reg.representatives)]
    try:
        with transaction.atomic():
            return _register(by, office, reg, cleaned, cleaned_reps, idempotency_key, now)
    except IntegrityError:
        # A concurrent retry of the same form won the race: return its case.
        if idempotency_key:
            existing = Case.objects.filter(idempotency_key=idempotency_key).first()
            if existing is not None:
                return existing
        raise


def _register(
    by: Any,
    office: Unit,
    reg: Registration,
    cleaned: list[dict[str, Any]],
    cleaned_reps: list[dict[str, Any]],
    idempotency_key: str | None,
    now: dt.datetime,
) -> Case:
    people = [petitioner_resolve(v) for v in cleaned]
    reps = [petitioner_resolve(v) for v in cleaned_reps]
    group = None
    if reg.group_name.strip():
        group, _ = PetitionerGroup.objects.get_or_create(name=reg.group_name.strip())
        group.members.add(*people, *reps)
    everyone = people + [r for r in reps if r not in people]
    earlier = _earlier_case(everyone, group, reg)
    year = timezone.localtime(now).year
    case = Case.objects.create(
        number=_next_number(office, year),
        query_code=_new_query_code(),
        idempotency_key=idempotency_key or None,
        channel=reg.channel,
        purpose=reg.purpose,
        category_id=reg.category_id,
        place_code=reg.place_code,
        place_name=reg.place_name,
        summary=reg.summary.strip(),
        content=reg.content,
        received_at=reg.received_at,
        headcount=reg.headcount,
        group=group,
        is_repeat=earlier is not None,
        related_to=earlier,
        is_skip_level=_is_skip_level(office, reg, everyone),
        is_collective=reg.headcount >= COLLECTIVE_HEADCOUNT,
        is_joint=reg.channel in WRITTEN_CHANNELS and len(people) > 1,
        status=Status.REGISTERED,
        office_unit=office,
        registered_by=by,
        registered_at=now,
    )
    links = [
        CasePetitioner(
            case=case,
            petitioner=p,
            order=i,
            role=PetitionerRole.COSIGNER if i and case.is_joint else PetitionerRole.PRINCIPAL,
        )
        for i, p in enumerate(people)
    ]
    links += [
        CasePetitioner(case=case, petitioner=r, order=10 + i, role=PetitionerRole.REPRESENTATIVE)
        for i, r in enumerate(reps)
        if r not in people
    ]
    CasePetitioner.objects.bulk_create(links)
    route = deadlines.deadline_open(case, DeadlineKind.ROUTE, deadlines.local_date(reg.received_at))
    CaseEvent.objects.create(
        case=case,
        kind="register",
        actor=by,
        actor_unit=office,
        at=now,
        to_status=Status.REGISTERED,
        text=f"{case.get_channel_display()}登记，首问责任人：{by.get_full_name() or by.username}",
        data={
            "route_due": route.due_on.isoformat(),
            "repeat_of": earlier.number if earlier else None,
            "headcount": case.headcount,
        },
    )
    return case
