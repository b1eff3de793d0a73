"""``POST /petitioners/{source_id}/merge``: a person registered without an ID number is merged
into the identified record (``people.services.petitioner_merge``; nothing is deleted).
``POST /petitioners/{id}/reveal``: the full ID number or phone, audited
(``people.services.petitioner_reveal``)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema

from xinfang.api import access
from xinfang.api.auth import current_user
from xinfang.api.errors import WRITE_ERRORS, NotFound
from xinfang.cases.models import CasePetitioner
from xinfang.people.models import Petitioner
from xinfang.people.selectors import petitioner_in_view
from xinfang.people.services import petitioner_merge, petitioner_reveal

router = Router()


class MergeIn(Schema):
    target_id: int = Field(description="保留的信访人记录（通常为有证件号码的记录）")
    reason: str = Field(max_length=200, description="合并原因，如“同一人，来访时未带证件”")


class MergeOut(Schema):
    source_id: int
    target_id: int
    cases_moved: int


def _visible_person(request: HttpRequest, pk: int) -> Petitioner:
    """A person exists for this user only through a case they may see (else 404)."""
    linked = CasePetitioner.objects.filter(petitioner_id=pk, case__in=access.visible(request))
    person = Petitioner.objects.filter(pk=pk).first()
    if person is None or not linked.exists():
        raise NotFound("未找到该信访人（不存在或不在您的权限范围内）")
    return person


@router.post(
    "/petitioners/{source_id}/merge",
    response={200: MergeOut, **{k: v for k, v in WRITE_ERRORS.items() if k != 409}},
    tags=["信访人"],
    summary="合并信访人记录",
    operation_id="petitioner_merge",
    description=petitioner_merge.__doc__ or "",
)
def merge(request: HttpRequest, source_id: int, body: MergeIn) -> Any:
    source = _visible_person(request, source_id)
    target = _visible_person(request, body.target_id)
    moved = CasePetitioner.objects.filter(petitioner=source).count()
    petitioner_merge(source=source, target=target, by=current_user(request), reason=body.reason)
    return {"source_id": source.pk, "target_id": target.pk, "cases_moved": moved}


class RevealField(StrEnum):
    ID_NUMBER = "id_number"
    PHONE = "phone"


class RevealIn(Schema):
    field: RevealField = Field(description="要查看的完整信息：证件号码 id_number 或联系电话 phone")
    case_id: int | None = Field(
        None, description="查看依据的事项（可选；默认为最近一件可查看的事项）"
    )


class RevealOut(Schema):
    petitioner_id: int
    field: RevealField
    value: str = Field(description="完整的证件号码或电话（勿缓存、勿记录）")
    case_number: str = Field(description="审计记录中登记的查看依据事项")


@router.post(
    "/petitioners/{petitioner_id}/reveal",
    response={200: RevealOut, **{k: v for k, v in WRITE_ERRORS.items() if k != 409}},
    tags=["信访人"],
    summary="查看完整证件号码或电话（记入审计日志）",
    operation_id="petitioner_reveal",
    description=(petitioner_reveal.__doc__ or "")
    + "\n\n响应带 `Cache-Control: no-store`。不在您权限范围内的信访人返回 404，且不记审计。",
)
def reveal(request: HttpRequest, response: HttpResponse, petitioner_id: int, body: RevealIn) -> Any:
    response["Cache-Control"] = "no-store"
    user = current_user(request)
    found = petitioner_in_view(user, petitioner_id, case_id=body.case_id)
    if found is None:
        raise NotFound("未找到该信访人（不存在或不在您的权限范围内）")
    person, case = found
    value = petitioner_reveal(
        person=person, case=case, field=body.field.value, by=user, request=request
    )
    return {
        "petitioner_id": person.pk,
        "field": body.field,
        "value": value,
        "case_number": case.number,
    }
