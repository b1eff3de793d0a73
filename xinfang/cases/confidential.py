"""检举控告 (accusation) confidentiality: who never sees such a case, and what is masked for
those who do.

Rules (shared/domain.md "Legal and confidentiality duties"; docs/security.md "检举控告保密"):

1. **Exclusion.** A case never exists for a person named as accused (``Case.accused_persons``)
   nor for anyone holding a post (any role, active or not) in an accused unit or in a unit
   below it. ``policy.cases_visible_to`` applies ``exclude_accused``, so every list, count,
   search, lookup, detail, action, API call and export — all built on it — leaves the case out.
2. **回避 in routing.** A confidential case is never assigned or forwarded to an accused unit,
   a unit below one, or a unit where an accused person holds a post (``recused_unit_ids``);
   ``policy.routing_targets`` does not offer them and ``services._route`` refuses them.
3. **Masking for those who may see it.** Lists, search results, the API and exports show
   ``PLACEHOLDER`` instead of the summary and a masked petitioner name (张**). The detail page
   and ``GET /api/cases/{id}`` hide the summary, content, accused and the petitioners' identity
   until an audited reveal (``reveal``; one ``reveal`` audit row per reveal).
4. **Search.** Free text (summary/content words) and person search (name, ID number, phone)
   match a confidential case only for the desk and case staff (接待员、办案员) of the petition
   office that registered it — they must find the case when the petitioner comes back. Anyone
   else (the handling unit, leaders, other offices) finds it by number or query code only, so
   a search cannot confirm who accused whom or what the accusation says.
5. **Accused added later** (``case_set_accused``, 办案员 of the registering office): recorded as
   an ``accused`` timeline row that names nobody. If the current handling unit is now in
   conflict (accused, inside an accused unit, or an accused person holds a post there) and the
   case is still with the unit (已交办/已转送/已签收/已受理), it is pulled back to the office as
   已退回 (``recuse`` row, unit deadlines cancelled, a new routing deadline opened) — otherwise
   it would be stranded with a unit that can no longer see it. Later states are office-side
   only; there the unit simply loses sight of the case.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from xinfang.cases.models import Case, CaseEvent, Purpose, Status
from xinfang.core.errors import DomainError, PermissionDenied
from xinfang.org import roles as R
from xinfang.org.models import Membership, Unit

PLACEHOLDER = "【检举控告件，内容保密】"
MAX_ACCUSED = 20
# More excluded case ids than this: filter with a subquery instead of an id list.
MAX_EXCLUDED_LIST = 1000
# States in which the handling unit holds the case (unit-side actions are pending).
WITH_UNIT = frozenset({Status.ASSIGNED, Status.FORWARDED, Status.SIGNED, Status.ACCEPTED})

AccusedUnits = Case.accused_units.through
AccusedPersons = Case.accused_persons.through


def mask_name(name: str | None) -> str:
    """张三 → 张**; the length is not shown either."""
    name = (name or "").strip()
    return (name[0] + "**") if name else ""


# --- exclusion ------------------------------------------------------------------------------


def _cover_ids(user: Any) -> list[int]:
    """Ids of every unit that, if accused, excludes ``user``: each unit the user holds a post
    in (any role, also in inactive units) and all its ancestors — read off the materialised
    paths, one query, cached on the user object for the request."""
    cached = getattr(user, "_xf_accused_cover", None)
    if cached is None:
        paths = Membership.objects.filter(user_id=user.pk).values_list("unit__path", flat=True)
        cached = sorted({int(part) for path in paths for part in path.split(".") if part})
        user._xf_accused_cover = cached
    return list(cached)


def _excluding(user: Any) -> Q:
    return Q(unit_id__in=_cover_ids(user))


def excluded_case_ids(user: Any) -> QuerySet[Any]:
    """Case ids the user is accused in, personally or through a unit (a subquery)."""
    by_unit = AccusedUnits.objects.filter(_excluding(user)).values_list("case_id", flat=True)
    by_person = AccusedPersons.objects.filter(user_id=user.pk).values_list("case_id", flat=True)
    return by_unit.union(by_person)


def exclude_accused(qs: QuerySet[Case], user: Any) -> QuerySet[Case]:
    """``qs`` without the cases ``user`` is accused in (see rule 1)."""
    if not getattr(user, "is_authenticated", False):
        return qs.none()
    ids = set(excluded_case_ids(user)[: MAX_EXCLUDED_LIST + 1])
    if not ids:
        return qs  # the usual case: no filter at all, list queries keep their index walk
    if len(ids) > MAX_EXCLUDED_LIST:
        return qs.exclude(
            pk__in=AccusedUnits.objects.filter(_excluding(user)).values("case_id")
        ).exclude(pk__in=AccusedPersons.objects.filter(user_id=user.pk).values("case_id"))
    return qs.exclude(pk__in=ids)


def is_accused(user: Any, case: Case) -> bool:
    return (
        AccusedUnits.objects.filter(_excluding(user), case_id=case.pk).exists()
        or AccusedPersons.objects.filter(user_id=user.pk, case_id=case.pk).exists()
    )


# --- routing (回避) --------------------------------------------------------------------------


def recused_unit_ids(case: Case) -> set[int]:
    """Units a confidential case must not be routed to: the accused units and their subtrees,
    and every unit where an accused person holds a post."""
    if case.pk is None:
        return set()
    paths = list(
        Unit.objects.filter(accusations=case).values_list("path", flat=True)  # type: ignore[misc]
    )
    ids: set[int] = set()
    if paths:
        condition = Q()
        for path in paths:
            condition |= Q(path__startswith=path)
        ids |= set(Unit.objects.filter(condition).values_list("pk", flat=True))
    ids |= set(Membership.objects.filter(user__accusations=case).values_list("unit_id", flat=True))
    return ids


def routing_refusal(case: Case, unit: Unit) -> str | None:
    """A Chinese 回避 message when ``unit`` may not handle ``case``, else None."""
    if unit.pk in recused_unit_ids(case):
        return (
            f"「{unit.name}」是本件检举控告的被检举控告单位（或其下级单位、被检举控告人所在单位），"
            "应当回避，不能交办或转送给该单位"
        )
    return None


# --- search ---------------------------------------------------------------------------------


def search_guard(user: Any) -> Q:
    """Cases whose text and people a search by ``user`` may match (rule 4)."""
    from xinfang.org.policy import posts_of

    offices = sorted({p.unit_id for p in posts_of(user) if p.role in R.OFFICE_STAFF})
    guard = ~Q(purpose=Purpose.ACCUSATION)
    if offices:
        guard |= Q(office_unit_id__in=offices)
    return guard


# --- masking --------------------------------------------------------------------------------


def shown_summary(case: Case) -> str:
    return PLACEHOLDER if case.is_confidential else case.summary


def shown_name(case: Case, name: str) -> str:
    return mask_name(name) if case.is_confidential else name


def mask_rows(rows: Iterable[Case], first: dict[int, Any]) -> None:
    """Set ``shown_summary`` / ``shown_person`` / ``shown_phone`` on list rows."""
    for case in rows:
        person = first.get(case.pk)
        case.shown_summary = shown_summary(case)  # type: ignore[attr-defined]
        case.shown_person = shown_name(case, person.name) if person else ""  # type: ignore[attr-defined]
        case.shown_phone = (  # type: ignore[attr-defined]
            "" if case.is_confidential or person is None else person.phone_masked
        )


# --- reveal ---------------------------------------------------------------------------------


def revealed(case: Case) -> dict[str, Any]:
    """Everything the mask hides (no audit: callers go through ``reveal``)."""
    from xinfang.cases.models import CasePetitioner

    return {
        "summary": case.summary,
        "content": case.content,
        "accused_text": case.accused_text,
        "accused_units": list(case.accused_units.order_by("path")),
        "accused_persons": list(case.accused_persons.order_by("id")),
        "parties": list(
            CasePetitioner.objects.filter(case=case)
            .select_related("petitioner")
            .order_by("order", "id")
        ),
        "attachments": list(case.attachments.order_by("uploaded_at", "id")),
    }


def reveal(case: Case, user: Any, request: HttpRequest | None = None) -> dict[str, Any]:
    """Show a confidential case's content to someone who may see the case, audited once."""
    from xinfang.audit.services import audit_record

    audit_record(
        action="reveal",
        actor=user,
        obj=case,
        summary=f"查看检举控告内容：{case.number}",
        detail={"field": "accusation"},
        request=request,
    )
    return revealed(case)


# --- accused: registration and later additions ------------------------------------------------


def resolve_accused(
    *, office: Unit, by: Any, unit_ids: Iterable[int], person_ids: Iterable[int]
) -> tuple[list[Unit], list[Any]]:
    """Check the accused named at registration or later; Chinese errors, field ``accused_units``
    / ``accused_persons``."""
    unit_ids = list(dict.fromkeys(int(i) for i in unit_ids))
    person_ids = list(dict.fromkeys(int(i) for i in person_ids))
    if len(unit_ids) > MAX_ACCUSED or len(person_ids) > MAX_ACCUSED:
        raise DomainError(f"被检举控告对象最多{MAX_ACCUSED}个", field="accused_units")
    root = office.path.split(".", 1)[0] + "."
    units = list(Unit.objects.filter(pk__in=unit_ids, path__startswith=root).order_by("path"))
    if len(units) != len(unit_ids):
        raise DomainError("被检举控告单位不存在或不在本辖区内，请重新选择", field="accused_units")
    for unit in units:
        if office.path.startswith(unit.path):
            raise DomainError(
                f"「{unit.name}」是本登记机构或其上级单位，本机构应当回避："
                "请引导信访人向上一级信访工作机构或纪检监察机关反映",
                field="accused_units",
            )
    user_model = get_user_model()
    persons = list(
        user_model.objects.filter(
            pk__in=person_ids, memberships__unit__path__startswith=root
        ).distinct()
    )
    if len(persons) != len(person_ids):
        raise DomainError("被检举控告人不存在或不是本辖区工作人员", field="accused_persons")
    cover = set(_cover_ids(by))
    if any(p.pk == by.pk for p in persons) or any(u.pk in cover for u in units):
        raise DomainError(
            "您本人或您所在单位是被检举控告对象，应当回避，请由其他工作人员办理",
            field="accused_persons" if any(p.pk == by.pk for p in persons) else "accused_units",
        )
    return units, persons


def _conflicted(case: Case) -> bool:
    return case.handling_unit_id is not None and case.handling_unit_id in recused_unit_ids(case)


def case_set_accused(
    *,
    case: Case,
    by: Any,
    unit_ids: Iterable[int] = (),
    person_ids: Iterable[int] = (),
    text: str = "",
    at: dt.datetime | None = None,
) -> CaseEvent:
    """Add accused units/persons (and text) to a 检举控告 case. Guard: 办案员 of the registering
    office; the case is confidential. Effect: the accused lose sight of the case at once; if
    the handling unit is now in conflict and still holds the case, it is pulled back (已退回).
    Event: ``accused`` (names nobody), plus ``recuse`` when pulled back."""
    from xinfang.cases import deadlines
    from xinfang.cases.models import DeadlineKind, ExtensionRequest
    from xinfang.core.errors import ConcurrentChange
    from xinfang.org.policy import holds_role_over

    if not holds_role_over(by, case.office_unit, {R.CASE_OFFICER}):
        raise PermissionDenied("只有登记单位（信访机构）的办案员可以补充被检举控告对象")
    if not case.is_confidential:
        raise DomainError("只有检举控告件可以登记被检举控告对象", field="accused_units")
    text = (text or "").strip()
    units, persons = resolve_accused(
        office=case.office_unit, by=by, unit_ids=unit_ids, person_ids=person_ids
    )
    if not units and not persons and not text:
        raise DomainError(
            "请选择被检举控告单位或人员，或填写其他被检举控告对象", field="accused_units"
        )
    now = at or timezone.now()
    with transaction.atomic():
        case.accused_units.add(*units)
        case.accused_persons.add(*persons)
        if text:
            joined = f"{case.accused_text}\n{text}".strip() if case.accused_text else text
            Case.objects.filter(pk=case.pk).update(accused_text=joined, updated_at=now)
            case.accused_text = joined
        ev = CaseEvent.objects.create(
            case=case,
            kind="accused",
            actor=by,
            actor_unit=case.office_unit,
            at=now,
            from_status=case.status,
            to_status=case.status,
            text="补充被检举控告对象（内容保密）",
        )
        if case.status in WITH_UNIT and _conflicted(case):
            from_status = case.status
            won = Case.objects.filter(
                pk=case.pk, status=from_status, handling_unit_id=case.handling_unit_id
            ).update(status=Status.RETURNED, handling_unit=None, updated_at=now)
            if not won:
                raise ConcurrentChange("该事项刚被他人处理，请刷新后重新补充被检举控告对象")
            case.status, case.handling_unit = Status.RETURNED, None
            CaseEvent.objects.create(
                case=case,
                kind="recuse",
                actor=by,
                actor_unit=case.office_unit,
                at=now,
                from_status=from_status,
                to_status=Status.RETURNED,
                text="承办单位与本件检举控告有利害关系，依回避原则收回，请重新交办或转送",
            )
            deadlines.deadlines_cancel(case, {DeadlineKind.ACCEPT, DeadlineKind.HANDLE}, now)
            deadlines.deadline_open(case, DeadlineKind.ROUTE, deadlines.local_date(now))
            ExtensionRequest.objects.filter(case=case, state=ExtensionRequest.State.PENDING).update(
                state=ExtensionRequest.State.DENIED, decided_at=now, decision_note="承办单位回避"
            )
        return ev


def accused_choices(office: Unit) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """Pickers for the registration form: units of the office's tree (indented, without the
    office and its ancestors, which must not be named — see ``resolve_accused``) and staff."""
    root = office.path.split(".", 1)[0] + "."
    units = [
        (u.pk, "　" * (u.path.count(".") - 1) + u.name)
        for u in Unit.objects.filter(path__startswith=root, is_active=True).order_by("path")
        if not office.path.startswith(u.path)
    ]
    members = (
        Membership.objects.filter(unit__path__startswith=root, user__is_active=True)
        .select_related("user", "unit")
        .order_by("unit__path", "user_id")
    )
    persons: dict[int, str] = {}
    for m in members:
        name = m.user.get_full_name() or m.user.get_username()
        persons.setdefault(m.user_id, f"{name}（{m.unit.name}）")
    return units, list(persons.items())
