"""预防排查 API: the 矛盾纠纷排查台账 (under /api/prevention). Same services as the pages.

Items are fetched through ``policy.disputes_visible_to``: another unit's item is a 404.
``DomainError`` → 400, ``PermissionDenied`` → 403, ``ConcurrentChange`` → 409 (``xinfang.api.
errors``). Registration is idempotent with the ``Idempotency-Key`` header.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, File, P, Query, Router, Schema, UploadedFile
from ninja.params import HeaderEx
from ninja.responses import Status as WithStatus

from xinfang.api import access
from xinfang.api.auth import current_user
from xinfang.api.errors import READ_ERRORS, WRITE_ERRORS, with_field_map
from xinfang.api.schemas import DbId
from xinfang.cases.models import Category
from xinfang.core.errors import DomainError
from xinfang.org.models import Unit
from xinfang.prevention import services as S
from xinfang.prevention.dispute_views import RELATED, days_overdue, filtered, ordered
from xinfang.prevention.models import Dispute, DisputeState
from xinfang.prevention.policy import disputes_visible_to, scope_ids

router = Router(tags=["预防排查"])
NOT_FOUND = "未找到该台账事项（不存在或不在您的权限范围内）"


class EventOut(Schema):
    kind: str
    at: dt.datetime
    actor: str
    actor_unit: str
    text: str
    data: dict[str, Any]


class DisputeOut(Schema):
    id: int
    number: str = Field(description="台账编号 MD年份-序号")
    title: str
    description: str
    source: str
    source_label: str
    source_note: str
    parties: str
    headcount: int
    place_unit_id: int
    place_unit: str
    place_text: str
    category_id: int | None
    category: str
    risk_level: str = Field(description="low / medium / high / critical")
    risk_label: str
    unit_id: int = Field(description="责任单位 ID")
    unit: str
    owner_id: int | None
    owner: str
    leader_id: int | None
    leader: str
    plan: str
    due_on: dt.date
    days_overdue: int
    state: str = Field(description="open 化解中 / pending 待审核销号 / struck 已销号")
    state_label: str
    case_id: int | None
    resolution: str
    evidence: str
    requested_by: str
    requested_at: dt.datetime | None
    struck_by: str
    struck_unit: str
    struck_at: dt.datetime | None
    created_at: dt.datetime
    files: list[dict[str, Any]] = Field(default_factory=list)
    events: list[EventOut] | None = None


class DisputePage(Schema):
    count: int
    page: int
    page_size: int
    items: list[DisputeOut]


class DisputeQuery(Schema):
    state: str = Field("", description="open / pending / struck / overdue（逾期）")
    risk: str = Field("", description="low / medium / high / critical")
    source: str = ""
    unit_id: int | None = Field(None, ge=1, le=2**62, description="责任单位（含下级）")
    place_id: int | None = Field(None, ge=1, le=2**62, description="发生地（含下级）")
    category_id: int | None = Field(None, ge=1, le=2**62)
    due_from: dt.date | None = None
    due_to: dt.date | None = None
    q: str = Field("", max_length=100, description="台账编号、名称、当事人、地点")
    page: int = Field(1, ge=1, le=100000)
    page_size: int = Field(30, ge=1, le=100)


class DisputeIn(Schema):
    title: str = Field(max_length=200)
    description: str = Field(max_length=10000)
    source: str = Field(description="screening / informant / petition / hotline / visit / other")
    source_note: str = Field("", max_length=400)
    parties: str = Field(max_length=10000, description="当事人，每行一方")
    headcount: int = Field(1, ge=0, le=1000000)
    place_unit_id: DbId
    place_text: str = Field("", max_length=400)
    category_id: DbId | None = None
    risk_level: str
    unit_id: DbId = Field(description="责任单位")
    owner_id: DbId | None = None
    leader_id: DbId | None = None
    plan: str = Field("", max_length=10000)
    due_on: dt.date | None = Field(None, description="不填则按风险等级默认期限")
    case_id: DbId | None = Field(None, description="来源信访事项（须有权查看）")


class DisputeUpdateIn(Schema):
    title: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=10000)
    parties: str | None = Field(None, max_length=10000)
    headcount: int | None = Field(None, ge=0, le=1000000)
    place_text: str | None = Field(None, max_length=400)
    category_id: DbId | None = None
    risk_level: str | None = None
    unit_id: DbId | None = None
    owner_id: DbId | None = None
    leader_id: DbId | None = None
    plan: str | None = Field(None, max_length=10000)
    due_on: dt.date | None = None
    reason: str = Field("", max_length=2000, description="调整风险等级的理由")


class ContactIn(Schema):
    method: str = Field(description="visit / phone / talk / help / other")
    person: str = Field(max_length=200)
    note: str = Field(max_length=10000)
    at: dt.datetime | None = Field(None, description="联系时间，不填为现在，不能晚于现在")


class StrikeRequestIn(Schema):
    resolution: str = Field(max_length=10000)
    evidence: str = Field(max_length=10000, description="化解佐证，至少10个字；另须已上传材料")


class StrikeDecisionIn(Schema):
    approve: bool
    note: str = Field("", max_length=10000, description="审核意见；退回时必填")


def _name(user: Any) -> str:
    return S._name(user)


def out(d: Dispute, *, events: bool = False, today: dt.date | None = None) -> dict[str, Any]:
    today = today or S.beijing_today()
    data: dict[str, Any] = {
        "id": d.pk,
        "number": d.number,
        "title": d.title,
        "description": d.description,
        "source": d.source,
        "source_label": d.get_source_display(),
        "source_note": d.source_note,
        "parties": d.parties,
        "headcount": d.headcount,
        "place_unit_id": d.place_unit_id,
        "place_unit": d.place_unit.name,
        "place_text": d.place_text,
        "category_id": d.category_id,
        "category": d.category.full_name if d.category else "",
        "risk_level": d.risk_level,
        "risk_label": d.get_risk_level_display(),
        "unit_id": d.unit_id,
        "unit": d.unit.name,
        "owner_id": d.owner_id,
        "owner": _name(d.owner),
        "leader_id": d.leader_id,
        "leader": _name(d.leader),
        "plan": d.plan,
        "due_on": d.due_on,
        "days_overdue": days_overdue(d, today),
        "state": d.state,
        "state_label": d.get_state_display(),
        "case_id": d.case_id,
        "resolution": d.resolution,
        "evidence": d.evidence,
        "requested_by": _name(d.requested_by),
        "requested_at": d.requested_at,
        "struck_by": _name(d.struck_by),
        "struck_unit": d.struck_unit.name if d.struck_unit else "",
        "struck_at": d.struck_at,
        "created_at": d.created_at,
    }
    if events:
        data["files"] = [
            {"id": a.pk, "name": a.original_name, "size": a.size, "uploaded_at": a.uploaded_at}
            for a in d.attachments.order_by("uploaded_at", "id")
        ]
        data["events"] = [
            {
                "kind": e.kind,
                "at": e.at,
                "actor": _name(e.actor),
                "actor_unit": e.actor_unit.name if e.actor_unit else "",
                "text": e.text,
                "data": e.data,
            }
            for e in d.events.select_related("actor", "actor_unit").order_by("at", "id")
        ]
    return data


def _dispute_or_404(request: HttpRequest, pk: int) -> Dispute:
    return access.row_or_404(
        disputes_visible_to(current_user(request)).select_related(*RELATED, "requested_by"),
        pk,
        NOT_FOUND,
    )


def _fresh(request: HttpRequest, pk: int) -> dict[str, Any]:
    return out(_dispute_or_404(request, pk), events=True)


def _unit(pk: int | None, field: str) -> Unit | None:
    if pk is None:
        return None
    unit = Unit.objects.filter(pk=pk).first()
    if unit is None:
        raise DomainError("所选单位不存在", field=field)
    return unit


def _user(pk: int | None, field: str) -> Any:
    if pk is None:
        return None
    user = get_user_model().objects.filter(pk=pk).first()
    if user is None:
        raise DomainError("所选人员不存在", field=field)
    return user


def _category(pk: int | None) -> Category | None:
    if pk is None:
        return None
    cat = Category.objects.filter(pk=pk, is_active=True).first()
    if cat is None:
        raise DomainError("所选纠纷类别不存在", field="category_id")
    return cat


_FIELD_MAP = {
    "unit": "unit_id",
    "place_unit": "place_unit_id",
    "owner": "owner_id",
    "leader": "leader_id",
    "category": "category_id",
    "case": "case_id",
}


@router.get(
    "/disputes",
    response={200: DisputePage, **READ_ERRORS},
    summary="矛盾纠纷台账列表",
    operation_id="prevention_disputes_list",
    description="您职责范围内（责任单位或发生地在您的辖区）的台账事项，按风险（重大在前）再按期限排序，"
    "已销号的排在最后。",
)
def disputes_list(request: HttpRequest, filters: Query[DisputeQuery]) -> Any:
    user = current_user(request)
    today = S.beijing_today()
    if filters.state and filters.state not in (*DisputeState.values, "overdue"):
        raise DomainError("状态应为 open、pending、struck 或 overdue", field="state")
    d = {
        "state": filters.state,
        "risk": filters.risk,
        "source": filters.source,
        "unit": filters.unit_id,
        "place": filters.place_id,
        "category": filters.category_id,
        "due_from": filters.due_from,
        "due_to": filters.due_to,
        "q": filters.q,
    }
    if filters.unit_id and filters.unit_id not in set(scope_ids(user)):
        raise DomainError("所选责任单位不在您的辖区内", field="unit_id")
    qs, _ = filtered(user, d, today)
    paginator = Paginator(ordered(qs).select_related(*RELATED, "requested_by"), filters.page_size)
    page = paginator.get_page(filters.page)
    return {
        "count": paginator.count,
        "page": page.number,
        "page_size": filters.page_size,
        "items": [out(x, today=today) for x in page.object_list],
    }


@router.get(
    "/disputes/{dispute_id}",
    response={200: DisputeOut, **READ_ERRORS},
    summary="台账事项详情（含动态与材料）",
    operation_id="prevention_disputes_detail",
)
def disputes_detail(request: HttpRequest, dispute_id: int) -> Any:
    return _fresh(request, dispute_id)


@router.post(
    "/disputes",
    response={201: DisputeOut, 200: DisputeOut, **WRITE_ERRORS},
    summary="登记矛盾纠纷",
    operation_id="prevention_disputes_create",
    description="首次登记返回 201；带相同 `Idempotency-Key` 再次提交返回 200 与首次登记的"
    "同一事项。\n\n" + (S.dispute_create.__doc__ or ""),
)
def disputes_create(
    request: HttpRequest,
    body: DisputeIn,
    idempotency_key: HeaderEx[
        str | None, P(alias="Idempotency-Key", min_length=1, max_length=64)
    ] = None,
) -> Any:
    user = current_user(request)
    case = None
    if body.case_id is not None:
        case = access.visible(request).filter(pk=body.case_id).first()
        if case is None:
            raise DomainError("该信访事项不存在或不在您的权限范围内", field="case_id")
    place_unit = _unit(body.place_unit_id, "place_unit_id")
    unit = _unit(body.unit_id, "unit_id")
    assert place_unit is not None and unit is not None
    now = timezone.now()
    dispute = with_field_map(
        lambda f: _FIELD_MAP.get(f, f),
        lambda: S.dispute_create(
            user,
            title=body.title,
            description=body.description,
            source=body.source,
            source_note=body.source_note,
            parties=body.parties,
            headcount=body.headcount,
            place_unit=place_unit,
            place_text=body.place_text,
            category=_category(body.category_id),
            risk_level=body.risk_level,
            unit=unit,
            owner=_user(body.owner_id, "owner_id"),
            leader=_user(body.leader_id, "leader_id"),
            plan=body.plan,
            due_on=body.due_on,
            case=case,
            petitioners=list(case.petitioners.all()) if case else (),
            idempotency_key=idempotency_key,
            at=now,
        ),
    )
    if not disputes_visible_to(user).filter(pk=dispute.pk).exists():
        return WithStatus(
            409,
            {
                "detail": "该幂等键已被使用，请为新的登记生成新的幂等键",
                "field": "idempotency_key",
                "code": "idempotency_conflict",
            },
        )
    created = dispute.created_at == now
    return WithStatus(201 if created else 200, _fresh(request, dispute.pk))


@router.post(
    "/disputes/{dispute_id}/update",
    response={200: DisputeOut, **WRITE_ERRORS},
    summary="修改台账事项",
    operation_id="prevention_disputes_update",
    description="只提交要修改的字段。\n\n" + (S.dispute_update.__doc__ or ""),
)
def disputes_update(request: HttpRequest, dispute_id: int, body: DisputeUpdateIn) -> Any:
    dispute = _dispute_or_404(request, dispute_id)
    sent = body.model_dump(exclude_unset=True)
    fields: dict[str, Any] = {}
    for name in ("title", "description", "parties", "headcount", "place_text", "plan"):
        if name in sent and sent[name] is not None:
            fields[name] = sent[name]
    if "risk_level" in sent and sent["risk_level"] is not None:
        fields["risk_level"] = sent["risk_level"]
    if "due_on" in sent:
        fields["due_on"] = sent["due_on"]
    if "category_id" in sent:
        fields["category"] = _category(sent["category_id"])
    if "unit_id" in sent and sent["unit_id"] is not None:
        fields["unit"] = _unit(sent["unit_id"], "unit_id")
    if "owner_id" in sent:
        fields["owner"] = _user(sent["owner_id"], "owner_id")
    if "leader_id" in sent:
        fields["leader"] = _user(sent["leader_id"], "leader_id")
    with_field_map(
        lambda f: _FIELD_MAP.get(f, f),
        lambda: S.dispute_update(current_user(request), dispute, reason=body.reason, **fields),
    )
    return _fresh(request, dispute_id)


@router.post(
    "/disputes/{dispute_id}/contact",
    response={200: DisputeOut, **WRITE_ERRORS},
    summary="记录联系/走访",
    operation_id="prevention_disputes_contact",
    description=S.dispute_contact.__doc__ or "",
)
def disputes_contact(request: HttpRequest, dispute_id: int, body: ContactIn) -> Any:
    dispute = _dispute_or_404(request, dispute_id)
    S.dispute_contact(
        current_user(request), dispute, body.method, body.person, body.note, at=body.at
    )
    return _fresh(request, dispute_id)


@router.post(
    "/disputes/{dispute_id}/files",
    response={200: DisputeOut, **WRITE_ERRORS},
    summary="上传化解材料",
    operation_id="prevention_disputes_file",
    description=S.dispute_add_file.__doc__ or "",
)
def disputes_file(request: HttpRequest, dispute_id: int, file: File[UploadedFile]) -> Any:
    dispute = _dispute_or_404(request, dispute_id)
    S.dispute_add_file(current_user(request), dispute, file)
    return _fresh(request, dispute_id)


@router.post(
    "/disputes/{dispute_id}/request-strike",
    response={200: DisputeOut, **WRITE_ERRORS},
    summary="报请销号",
    operation_id="prevention_disputes_request_strike",
    description=S.dispute_request_strike.__doc__ or "",
)
def disputes_request_strike(request: HttpRequest, dispute_id: int, body: StrikeRequestIn) -> Any:
    dispute = _dispute_or_404(request, dispute_id)
    S.dispute_request_strike(current_user(request), dispute, body.resolution, body.evidence)
    return _fresh(request, dispute_id)


@router.post(
    "/disputes/{dispute_id}/decide-strike",
    response={200: DisputeOut, **WRITE_ERRORS},
    summary="审核销号（上一级单位）",
    operation_id="prevention_disputes_decide_strike",
    description=S.dispute_decide_strike.__doc__ or "",
)
def disputes_decide_strike(request: HttpRequest, dispute_id: int, body: StrikeDecisionIn) -> Any:
    dispute = _dispute_or_404(request, dispute_id)
    S.dispute_decide_strike(current_user(request), dispute, body.approve, body.note)
    return _fresh(request, dispute_id)
