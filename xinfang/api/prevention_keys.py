"""预防排查 API: 重点人员/群体 and the dashboard summary (under /api/prevention).

Same services as the pages (``prevention.keypersons``, ``prevention.dashboard``). The register
exists only for 领导, 办案员 and 单位负责人; a subject outside ``key_persons_visible_to`` /
``key_groups_visible_to`` is a 404. Every detail read writes a ``keyperson_view`` audit row;
ID numbers and phones are masked (the full value: the audited people reveal on a case page).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.responses import Status as WithStatus

from xinfang.api import access
from xinfang.api.auth import current_user
from xinfang.api.errors import READ_ERRORS, WRITE_ERRORS, NotFound
from xinfang.api.schemas import DbId
from xinfang.core.errors import DomainError
from xinfang.org.models import Unit
from xinfang.people.models import KeyPerson, PetitionerGroup
from xinfang.prevention import dashboard as D
from xinfang.prevention import keypersons as K
from xinfang.prevention import policy
from xinfang.prevention.models import KeyContact, KeyGroup

router = Router(tags=["预防排查"])
NOT_FOUND = K.NOT_FOUND


class ContactOut(Schema):
    id: int
    at: dt.datetime
    method: str
    method_label: str
    note: str
    by: str


class LinkOut(Schema):
    id: int
    number: str
    title: str = Field(description="摘要（检举控告件为“内容保密”）")
    state: str


class KeyOut(Schema):
    id: int
    kind: str = Field(description="person 重点人员 / group 重点群体")
    name: str = Field(description="姓名或群体名称")
    petitioner_id: int | None = None
    group_id: int | None = None
    id_masked: str = Field("", description="证件号码（脱敏）")
    phone_masked: str = Field("", description="联系电话（脱敏）")
    headcount: int | None = None
    reason: str
    since: dt.date
    unit_id: int | None
    unit: str | None
    leader_id: int | None
    leader: str | None
    plan: str
    review_on: dt.date | None
    review_overdue: bool
    active: bool
    removed_at: dt.datetime | None
    removed_reason: str


class KeyDetailOut(KeyOut):
    contacts: list[ContactOut]
    cases: list[LinkOut]
    disputes: list[LinkOut]


class KeyPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[KeyOut]


class KeyQuery(Schema):
    q: str = Field("", max_length=50, description="姓名/群体名称或原因")
    unit_id: int | None = Field(None, ge=1, le=2**62, description="责任单位（含下级）")
    leader_id: int | None = Field(None, ge=1, le=2**62, description="包案领导")
    status: str = Field("active", description="active 在册 / removed 已撤销 / all")
    review_overdue: bool = Field(False, description="仅评估已逾期")
    page: int = Field(1, ge=1, le=100000)
    page_size: int = Field(30, ge=1, le=100)


class FactsIn(Schema):
    reason: str = Field(max_length=400, description="列为重点的原因")
    since: dt.date = Field(description="起始日期")
    unit_id: DbId = Field(ge=1, le=2**62, description="责任单位")
    leader_id: DbId | None = Field(None, ge=1, le=2**62, description="包案领导（领导岗位）")
    plan: str = Field("", max_length=8000, description="稳控/帮扶措施")
    review_on: dt.date | None = Field(None, description="下次评估日期")


class PersonIn(FactsIn):
    petitioner_id: DbId = Field(ge=1, le=2**62, description="信访人（须为您可查看事项的当事人）")


class GroupIn(FactsIn):
    group_id: DbId | None = Field(None, ge=1, le=2**62, description="已有群体")
    new_group_name: str = Field("", max_length=200, description="或新建群体的名称")
    headcount: int = Field(ge=1, le=100000, description="涉及人数")


class UpdateIn(Schema):
    reason: str | None = Field(None, max_length=400)
    since: dt.date | None = None
    unit_id: DbId | None = Field(None, ge=1, le=2**62)
    leader_id: DbId | None = Field(None, ge=1, le=2**62)
    clear_leader: bool = Field(False, description="取消包案领导")
    plan: str | None = Field(None, max_length=8000)
    review_on: dt.date | None = None
    headcount: int | None = Field(None, ge=1, le=100000, description="仅重点群体")


class RemoveIn(Schema):
    reason: str = Field(max_length=400, description="撤销原因")


class ContactIn(Schema):
    method: str = Field(description="visit / phone / talk / help / other")
    note: str = Field(max_length=4000)
    at: dt.datetime | None = Field(None, description="时间（默认现在）")


def _name(user: Any) -> str | None:
    return None if user is None else str(user.get_full_name() or user.username)


def _out(subject: Any, today: dt.date) -> dict[str, Any]:
    is_person = isinstance(subject, KeyPerson)
    data: dict[str, Any] = {
        "id": subject.pk,
        "kind": "person" if is_person else "group",
        "name": subject.petitioner.name if is_person else subject.group.name,
        "petitioner_id": subject.petitioner_id if is_person else None,
        "group_id": None if is_person else subject.group_id,
        "id_masked": subject.petitioner.id_masked if is_person else "",
        "phone_masked": subject.petitioner.phone_masked if is_person else "",
        "headcount": None if is_person else subject.headcount,
        "reason": subject.reason,
        "since": subject.since,
        "unit_id": subject.unit_id,
        "unit": subject.unit.name if subject.unit_id else None,
        "leader_id": subject.leader_id,
        "leader": _name(subject.leader),
        "plan": subject.plan,
        "review_on": subject.review_on,
        "review_overdue": bool(
            subject.removed_at is None and subject.review_on and subject.review_on < today
        ),
        "active": subject.removed_at is None,
        "removed_at": subject.removed_at,
        "removed_reason": subject.removed_reason,
    }
    return data


def _detail(request: HttpRequest, subject: Any) -> dict[str, Any]:
    user = current_user(request)
    data = _out(subject, timezone.localdate())
    contacts: list[KeyContact] = list(subject.contacts.select_related("by").order_by("-at", "-pk"))
    data["contacts"] = [
        {
            "id": c.pk,
            "at": c.at,
            "method": c.method,
            "method_label": c.get_method_display(),
            "note": c.note,
            "by": _name(c.by) or "",
        }
        for c in contacts
    ]
    data["cases"] = [
        {
            "id": c.pk,
            "number": c.number,
            "title": "检举控告件（内容保密）" if c.is_confidential else c.summary,
            "state": c.status,
        }
        for c in K.linked_cases(user, subject)
    ]
    data["disputes"] = [
        {"id": d.pk, "number": d.number, "title": d.title, "state": d.state}
        for d in K.linked_disputes(user, subject)
    ]
    return data


def _gate(request: HttpRequest) -> Any:
    user = current_user(request)
    if not policy.may_use_key_register(user):
        raise NotFound(NOT_FOUND)
    return user


def _persons(user: Any) -> QuerySet[KeyPerson]:
    return policy.key_persons_visible_to(user).select_related("petitioner", "unit", "leader")


def _groups(user: Any) -> QuerySet[KeyGroup]:
    return policy.key_groups_visible_to(user).select_related("group", "unit", "leader")


def _filtered(rows: QuerySet[Any], f: KeyQuery, *, person: bool) -> QuerySet[Any]:
    today = timezone.localdate()
    if f.status == "removed":
        rows = rows.filter(removed_at__isnull=False)
    elif f.status == "active":
        rows = rows.filter(removed_at__isnull=True)
    elif f.status != "all":
        raise DomainError("状态应为 active、removed 或 all", field="status")
    if f.review_overdue:
        rows = rows.filter(removed_at__isnull=True, review_on__lt=today)
    if f.unit_id:
        unit = Unit.objects.filter(pk=f.unit_id).first()
        rows = rows.filter(unit__path__startswith=unit.path) if unit else rows.none()
    if f.leader_id:
        rows = rows.filter(leader_id=f.leader_id)
    q = f.q.strip()
    if q:
        name = "petitioner__name__icontains" if person else "group__name__icontains"
        rows = rows.filter(Q(**{name: q}) | Q(reason__icontains=q))
    return rows.order_by("removed_at", "review_on", "-since", "-pk")


def _page(
    rows: QuerySet[Any], f: KeyQuery, *, user: Any, tab: str, request: HttpRequest
) -> dict[str, Any]:
    """One page of the register, and its ``keyperson_view`` audit row (no search words)."""
    from xinfang.prevention.key_views import record_list_view

    today = timezone.localdate()
    paginator = Paginator(rows, f.page_size)
    page = paginator.get_page(f.page)
    record_list_view(
        user,
        tab=tab,
        count=paginator.count,
        filters={**f.model_dump(), "page": page.number},
        via="api",
        request=request,
    )
    return {
        "count": paginator.count,
        "page": page.number,
        "page_size": f.page_size,
        "items": [_out(s, today) for s in page.object_list],
    }


def _unit(unit_id: int | None) -> Unit | None:
    if unit_id is None:
        return None
    unit = Unit.objects.filter(pk=unit_id).first()
    if unit is None:
        raise DomainError("所选责任单位不存在", field="unit_id")
    return unit


def _leader(leader_id: int | None) -> Any:
    if leader_id is None:
        return None
    leader = get_user_model().objects.filter(pk=leader_id, is_active=True).first()
    if leader is None:
        raise DomainError("所选包案领导不存在", field="leader_id")
    return leader


def _map_field(exc: DomainError) -> DomainError:
    mapping = {"unit": "unit_id", "leader": "leader_id", "petitioner": "petitioner_id"}
    exc.field = mapping.get(exc.field or "", exc.field)
    return exc


def _update_fields(body: UpdateIn) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name in ("reason", "since", "plan", "review_on"):
        value = getattr(body, name)
        if value is not None:
            fields[name] = value
    if body.unit_id is not None:
        fields["unit"] = _unit(body.unit_id)
    if body.clear_leader:
        fields["leader"] = None
    elif body.leader_id is not None:
        fields["leader"] = _leader(body.leader_id)
    return fields


# --- persons ---------------------------------------------------------------------------------


@router.get(
    "/keys/persons",
    response={200: KeyPage, **READ_ERRORS},
    summary="重点人员列表",
    operation_id="prevention_key_persons_list",
    description="您可查看的重点人员（领导、办案员：所辖范围；包案领导；责任单位负责人）。"
    "证件号码、电话脱敏。",
)
def key_persons_list(request: HttpRequest, filters: Query[KeyQuery]) -> Any:
    user = _gate(request)
    rows = _filtered(_persons(user), filters, person=True)
    return _page(rows, filters, user=user, tab="person", request=request)


@router.get(
    "/keys/persons/{key_id}",
    response={200: KeyDetailOut, **READ_ERRORS},
    summary="重点人员详情（记入审计）",
    operation_id="prevention_key_persons_detail",
)
def key_persons_detail(request: HttpRequest, key_id: int) -> Any:
    user = _gate(request)
    kp = access.row_or_404(_persons(user), key_id, NOT_FOUND)
    K.record_view(user, kp, request=request, via="api")
    return _detail(request, kp)


@router.post(
    "/keys/persons",
    response={201: KeyDetailOut, **WRITE_ERRORS},
    summary="列为重点人员",
    operation_id="prevention_key_persons_create",
    description=K.key_person_add.__doc__ or "",
)
def key_persons_create(request: HttpRequest, body: PersonIn) -> Any:
    user = _gate(request)
    person = K.flaggable_petitioners(user).filter(pk=body.petitioner_id).first()
    if person is None:
        raise NotFound("未找到该信访人（不在您可查看的信访事项中）")
    try:
        kp = K.key_person_add(
            user,
            person,
            reason=body.reason,
            since=body.since,
            unit=_unit(body.unit_id),
            leader=_leader(body.leader_id),
            plan=body.plan,
            review_on=body.review_on,
            request=request,
        )
    except DomainError as exc:
        raise _map_field(exc) from None
    return WithStatus(201, _detail(request, access.row_or_404(_persons(user), kp.pk)))


@router.post(
    "/keys/persons/{key_id}",
    response={200: KeyDetailOut, **WRITE_ERRORS},
    summary="修改重点人员",
    operation_id="prevention_key_persons_update",
    description=K.key_person_update.__doc__ or "",
)
def key_persons_update(request: HttpRequest, key_id: int, body: UpdateIn) -> Any:
    user = _gate(request)
    kp = access.row_or_404(_persons(user), key_id, NOT_FOUND)
    try:
        K.key_person_update(user, kp, request=request, **_update_fields(body))
    except DomainError as exc:
        raise _map_field(exc) from None
    return _detail(request, access.row_or_404(_persons(user), key_id, NOT_FOUND))


@router.post(
    "/keys/persons/{key_id}/remove",
    response={200: KeyDetailOut, **WRITE_ERRORS},
    summary="撤销重点人员",
    operation_id="prevention_key_persons_remove",
    description=K.key_person_remove.__doc__ or "",
)
def key_persons_remove(request: HttpRequest, key_id: int, body: RemoveIn) -> Any:
    user = _gate(request)
    kp = access.row_or_404(_persons(user), key_id, NOT_FOUND)
    K.key_person_remove(user, kp, body.reason, request=request)
    return _detail(request, access.row_or_404(_persons(user), key_id, NOT_FOUND))


@router.post(
    "/keys/persons/{key_id}/contacts",
    response={201: ContactOut, **WRITE_ERRORS},
    summary="登记重点人员联系记录",
    operation_id="prevention_key_persons_contact",
    description=K.key_contact_add.__doc__ or "",
)
def key_persons_contact(request: HttpRequest, key_id: int, body: ContactIn) -> Any:
    user = _gate(request)
    kp = access.row_or_404(_persons(user), key_id, NOT_FOUND)
    return WithStatus(201, _contact(user, kp, body, request))


def _contact(user: Any, subject: Any, body: ContactIn, request: HttpRequest) -> dict[str, Any]:
    c = K.key_contact_add(
        user, subject, method=body.method, note=body.note, at=body.at, request=request
    )
    return {
        "id": c.pk,
        "at": c.at,
        "method": c.method,
        "method_label": c.get_method_display(),
        "note": c.note,
        "by": _name(user) or "",
    }


# --- groups ----------------------------------------------------------------------------------


@router.get(
    "/keys/groups",
    response={200: KeyPage, **READ_ERRORS},
    summary="重点群体列表",
    operation_id="prevention_key_groups_list",
)
def key_groups_list(request: HttpRequest, filters: Query[KeyQuery]) -> Any:
    user = _gate(request)
    rows = _filtered(_groups(user), filters, person=False)
    return _page(rows, filters, user=user, tab="group", request=request)


@router.get(
    "/keys/groups/{key_id}",
    response={200: KeyDetailOut, **READ_ERRORS},
    summary="重点群体详情（记入审计）",
    operation_id="prevention_key_groups_detail",
)
def key_groups_detail(request: HttpRequest, key_id: int) -> Any:
    user = _gate(request)
    kg = access.row_or_404(_groups(user), key_id, NOT_FOUND)
    K.record_view(user, kg, request=request, via="api")
    return _detail(request, kg)


@router.post(
    "/keys/groups",
    response={201: KeyDetailOut, **WRITE_ERRORS},
    summary="列为重点群体",
    operation_id="prevention_key_groups_create",
    description=K.key_group_add.__doc__ or "",
)
def key_groups_create(request: HttpRequest, body: GroupIn) -> Any:
    user = _gate(request)
    target: PetitionerGroup | str
    if body.group_id is not None:
        found = K.flaggable_groups(user).filter(pk=body.group_id).first()
        if found is None:
            raise NotFound("未找到该群体（不在您可查看的信访事项或矛盾纠纷中）")
        target = found
    else:
        target = body.new_group_name
    try:
        kg = K.key_group_add(
            user,
            target,
            reason=body.reason,
            since=body.since,
            unit=_unit(body.unit_id),
            headcount=body.headcount,
            leader=_leader(body.leader_id),
            plan=body.plan,
            review_on=body.review_on,
            request=request,
        )
    except DomainError as exc:
        if exc.field == "group":
            exc.field = "group_id" if body.group_id is not None else "new_group_name"
        raise _map_field(exc) from None
    return WithStatus(201, _detail(request, access.row_or_404(_groups(user), kg.pk)))


@router.post(
    "/keys/groups/{key_id}",
    response={200: KeyDetailOut, **WRITE_ERRORS},
    summary="修改重点群体",
    operation_id="prevention_key_groups_update",
    description=K.key_group_update.__doc__ or "",
)
def key_groups_update(request: HttpRequest, key_id: int, body: UpdateIn) -> Any:
    user = _gate(request)
    kg = access.row_or_404(_groups(user), key_id, NOT_FOUND)
    fields = _update_fields(body)
    if body.headcount is not None:
        fields["headcount"] = body.headcount
    try:
        K.key_group_update(user, kg, request=request, **fields)
    except DomainError as exc:
        raise _map_field(exc) from None
    return _detail(request, access.row_or_404(_groups(user), key_id, NOT_FOUND))


@router.post(
    "/keys/groups/{key_id}/remove",
    response={200: KeyDetailOut, **WRITE_ERRORS},
    summary="撤销重点群体",
    operation_id="prevention_key_groups_remove",
)
def key_groups_remove(request: HttpRequest, key_id: int, body: RemoveIn) -> Any:
    user = _gate(request)
    kg = access.row_or_404(_groups(user), key_id, NOT_FOUND)
    K.key_group_remove(user, kg, body.reason, request=request)
    return _detail(request, access.row_or_404(_groups(user), key_id, NOT_FOUND))


@router.post(
    "/keys/groups/{key_id}/contacts",
    response={201: ContactOut, **WRITE_ERRORS},
    summary="登记重点群体联系记录",
    operation_id="prevention_key_groups_contact",
)
def key_groups_contact(request: HttpRequest, key_id: int, body: ContactIn) -> Any:
    user = _gate(request)
    kg = access.row_or_404(_groups(user), key_id, NOT_FOUND)
    return WithStatus(201, _contact(user, kg, body, request))


# --- dashboard -------------------------------------------------------------------------------


class DashboardQuery(Schema):
    unit_id: int | None = Field(
        None, ge=1, le=2**62, description="街道等下级单位（须在您的范围内）"
    )


@router.get(
    "/dashboard",
    response={200: dict[str, Any], **READ_ERRORS},
    summary="预防排查总览（数字与单位树）",
    operation_id="prevention_dashboard",
    description="与 /prevention/ 页面相同的数字：在办纠纷（按风险）、逾期、待我审核销号、"
    "本期排查完成率与逾期单位、紧急报告、预警（按级别）、重点人员/群体（仅领导、办案员、单位负责人）、"
    "风险最高的纠纷与最新预警、单位树（含件数与最高等级）。",
)
def prevention_dashboard(request: HttpRequest, filters: Query[DashboardQuery]) -> Any:
    user = current_user(request)
    if not policy.may_use_prevention(user):
        raise NotFound("未找到该单位（不存在或不在您的权限范围内）")
    unit = D.dashboard_unit(user, filters.unit_id)
    if unit is None:
        raise NotFound("未找到该单位（不存在或不在您的权限范围内）")
    return D.as_json(D.summary(user, unit, with_unit=filters.unit_id is not None))
