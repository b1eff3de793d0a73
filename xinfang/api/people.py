"""``POST /petitioners/{source_id}/merge``: a person registered without an ID number is merged
into the identified record (``people.services.petitioner_merge``; nothing is deleted)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from xinfang.api import access
from xinfang.api.auth import current_user
from xinfang.api.errors import WRITE_ERRORS, NotFound
from xinfang.cases.models import CasePetitioner
from xinfang.people.models import Petitioner
from xinfang.people.services import petitioner_merge

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
