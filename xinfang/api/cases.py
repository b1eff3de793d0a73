"""Registering, listing, reading and finding cases — and finding the people behind them."""

from __future__ import annotations

import inspect
import re
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import P, Query, Router
from ninja.params import HeaderEx, QueryEx
from ninja.responses import Status as WithStatus

from xinfang.api import serialize as out
from xinfang.api.access import visible
from xinfang.api.auth import current_user
from xinfang.api.errors import READ_ERRORS, WRITE_ERRORS, with_field_map
from xinfang.api.schemas import (
    CaseDetail,
    CaseListQuery,
    CasePage,
    ErrorOut,
    LookupOut,
    PetitionerIn,
    RegistrationIn,
)
from xinfang.cases.confidential import search_guard
from xinfang.cases.models import CasePetitioner
from xinfang.cases.registration import Registration, case_register
from xinfang.cases.selectors import (
    _petitioner_match,
    annotate_page,
    case_list,
    case_list_page_rows,
)
from xinfang.core.errors import DomainError, PermissionDenied
from xinfang.org.models import Unit
from xinfang.org.policy import role_codes
from xinfang.org.roles import CASE_READERS
from xinfang.people.models import Petitioner
from xinfang.people.services import PetitionerInput

router = Router()

LOOKUP_LIMIT = 20

_PERSON_FIELD = re.compile(r"^([pr])(\d+)_(\w+)$")
_REGISTRATION_FIELDS = {"category": "category_id"}


def _registration_field(name: str) -> str:
    """The service's field name (``p0_id_number``) as the request body's (``petitioners.0…``)."""
    match = _PERSON_FIELD.match(name)
    if match:
        side, index, field = match.groups()
        return f"{'petitioners' if side == 'p' else 'representatives'}.{index}.{field}"
    return _REGISTRATION_FIELDS.get(name, name)


def _person_input(p: PetitionerIn) -> PetitionerInput:
    return PetitionerInput(
        name=p.name,
        id_type=p.id_type.value,
        id_number=p.id_number,
        phone=p.phone,
        address=p.address,
        sex=p.sex,
        age_band=p.age_band,
        education=p.education,
        occupation=p.occupation,
        ethnic_group=p.ethnic_group,
    )


@router.post(
    "/cases",
    response={201: CaseDetail, 200: CaseDetail, **WRITE_ERRORS},
    tags=["事项"],
    summary="登记信访事项",
    operation_id="case_register",
    description=(
        "按 `Registration` 登记一件信访事项（来访、来信、网上等各渠道）。"
        "首次登记返回 **201**；带相同幂等键（`Idempotency-Key` 请求头或 `idempotency_key` 字段）"
        "再次提交返回 **200** 与首次登记的同一事项（以首次提交的内容为准）。"
        "幂等键若已被您无权查看的事项使用，返回 409 `idempotency_conflict`。\n\n"
        + inspect.cleandoc(case_register.__doc__ or "")
    ),
)
def register_case(
    request: HttpRequest,
    body: RegistrationIn,
    idempotency_key: HeaderEx[
        str | None, P(alias="Idempotency-Key", min_length=1, max_length=64)
    ] = None,
) -> Any:
    user = current_user(request)
    key = body.idempotency_key
    if idempotency_key and key and idempotency_key != key:
        raise DomainError(
            "Idempotency-Key 请求头与请求体中的 idempotency_key 不一致", field="idempotency_key"
        )
    key = key or idempotency_key
    office = Unit.objects.filter(pk=body.office_unit_id).first()
    if office is None:
        raise DomainError("登记单位不存在", field="office_unit_id")
    if (
        body.related_to_id is not None
        and not visible(request).filter(pk=body.related_to_id).exists()
    ):
        raise DomainError("关联前案不存在或不在您的权限范围内", field="related_to_id")
    reg = Registration(
        channel=body.channel.value,
        purpose=body.purpose.value,
        summary=body.summary,
        content=body.content,
        petitioners=[_person_input(p) for p in body.petitioners],
        representatives=[_person_input(p) for p in body.representatives],
        received_at=body.received_at,
        category_id=body.category_id,
        place_code=body.place_code,
        place_name=body.place_name,
        headcount=body.headcount,
        group_name=body.group_name,
        related_to_id=body.related_to_id,
        skip_level=body.skip_level,
        accused_unit_ids=body.accused_unit_ids,
        accused_person_ids=body.accused_person_ids,
        accused_text=body.accused_text,
        known_petitioner_ids=list(body.known_petitioner_ids),
        known_representative_ids=list(body.known_representative_ids),
        participants=[_person_input(p) for p in body.participants],
        known_participant_ids=list(body.known_participant_ids),
        desk_purpose=body.desk_purpose,
        visitor_type=body.visitor_type,
        final_inform=body.final_inform,
        psych_note=body.psych_note,
    )
    now = timezone.now()
    case = with_field_map(
        _registration_field,
        lambda: case_register(by=user, office=office, reg=reg, idempotency_key=key, at=now),
    )
    if not visible(request).filter(pk=case.pk).exists():
        # The key was used for a case outside this user's units: say nothing about it.
        return WithStatus(
            409,
            {
                "detail": "该幂等键已被使用，请为新的登记生成新的幂等键",
                "field": "idempotency_key",
                "code": "idempotency_conflict",
            },
        )
    created = case.registered_at == now  # a replay returns the case registered earlier
    return WithStatus(201 if created else 200, out.fresh_detail(request, case.pk))


@router.get(
    "/cases",
    response={200: CasePage, **READ_ERRORS},
    tags=["事项"],
    summary="事项列表（检索、筛选、分页）",
    operation_id="case_list",
    description="与工作台事项列表相同的检索与筛选（`CaseFilter`），只含您有权查看的事项；"
    "按收到时间倒序。信访人信息已脱敏。",
)
def list_cases(request: HttpRequest, filters: Query[CaseListQuery]) -> Any:
    user = current_user(request)
    today = timezone.localdate()
    f = filters.to_filter()
    matching = case_list(user, f, today=today)
    count = matching.count()
    start = (filters.page - 1) * filters.page_size
    rows = list(case_list_page_rows(matching)[start : start + filters.page_size])
    firsts = annotate_page(rows)
    items = [out.case_row(case, firsts.get(case.pk), today) for case in rows]
    return {"count": count, "page": filters.page, "page_size": filters.page_size, "items": items}


@router.get(
    "/cases/{case_id}",
    response={200: CaseDetail, **READ_ERRORS},
    tags=["事项"],
    summary="事项详情",
    operation_id="case_detail",
    description="事项字段、信访人（脱敏）、全部动态、未完成的期限、您此刻可执行的操作。"
    "不在您权限范围内的事项返回 404。",
)
def case_detail(request: HttpRequest, case_id: int) -> Any:
    return out.fresh_detail(request, case_id)


@router.get(
    "/petitioners/lookup",
    response={200: LookupOut, 400: ErrorOut, 403: ErrorOut, **READ_ERRORS},
    tags=["信访人"],
    summary="按证件号、电话或姓名查找信访人",
    operation_id="petitioner_lookup",
    description="完整的身份证号、电话号码或中文姓名。返回的证件号与电话已脱敏；"
    "每人只列出您有权查看的事项。仅信访工作岗位可用。",
)
def petitioner_lookup(
    request: HttpRequest,
    q: QueryEx[str, P(min_length=1, max_length=40, description="身份证号、电话或姓名")],
) -> Any:
    user = current_user(request)
    if not role_codes(user) & CASE_READERS:
        raise PermissionDenied("您的岗位不能查询信访人信息")
    matched = _petitioner_match(q.strip())
    if matched is None:
        raise DomainError("请输入完整的身份证号、电话号码或中文姓名（2–10个汉字）", field="q")
    # Only people on a case this user may see: the lookup must not confirm that someone has
    # petitioned elsewhere, nor name the person behind a phone number. 检举控告 cases count only
    # for their registering office's desk/case staff (``confidential.search_guard``).
    scope = visible(request).filter(search_guard(user))
    in_scope = matched.filter(parties__case__in=scope).distinct()
    people: list[Petitioner] = list(in_scope.order_by("id")[: LOOKUP_LIMIT + 1])
    truncated = len(people) > LOOKUP_LIMIT
    people = people[:LOOKUP_LIMIT]
    links = (
        CasePetitioner.objects.filter(petitioner__in=people, case__in=scope)
        .select_related("case")
        .order_by("-case__received_at", "-case_id")
    )
    by_person: dict[int, list[dict[str, Any]]] = {p.pk: [] for p in people}
    for link in links:
        by_person[link.petitioner_id].append(
            {
                "id": link.case.pk,
                "number": link.case.number,
                "status": out.status(link.case.status),
                "received_at": out.local(link.case.received_at),
            }
        )
    return {
        "items": [
            {
                "id": p.pk,
                "name": p.name,
                "id_masked": p.id_masked,
                "phone_masked": p.phone_masked,
                "cases": by_person[p.pk],
            }
            for p in people
        ],
        "truncated": truncated,
    }
