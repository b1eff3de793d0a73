"""The reception desk on a case (``xinfang.cases.desk``): 首问负责 hand-over and 转介心理疏导.

Same services as the case page's 接待台 panel; the case exists for a caller only if they may see
it (``cases_visible_to``), otherwise 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpRequest
from ninja import Field, Router, Schema

from xinfang.api import access
from xinfang.api import serialize as out
from xinfang.api.auth import current_user
from xinfang.api.errors import WRITE_ERRORS
from xinfang.api.schemas import DbId
from xinfang.cases import desk
from xinfang.core.errors import DomainError
from xinfang.org.models import Unit

router = Router(tags=["接待台"])


class HandoverIn(Schema):
    reason: str = Field(max_length=1000, description="移交原因（必填）")
    to_user_id: DbId | None = Field(None, description="移交给本信访机构的同事（用户 id）")
    to_unit_id: DbId | None = Field(
        None, description="或移交单位（仅记录去向；正式交办/转送仍用分流操作）"
    )


class CounsellingIn(Schema):
    note: str = Field(max_length=1000, description="转介心理疏导的情况说明")


class EventOut(Schema):
    event: dict[str, Any]


@router.post(
    "/cases/{case_id}/handover",
    response={200: EventOut, **WRITE_ERRORS},
    summary="首问负责移交",
    operation_id="case_hand_over",
    description=desk.case_hand_over.__doc__ or "",
)
def hand_over(request: HttpRequest, case_id: int, body: HandoverIn) -> Any:
    case = access.case_or_404(request, case_id)
    to_user = to_unit = None
    if body.to_user_id is not None:
        to_user = get_user_model().objects.filter(pk=body.to_user_id).first()
        if to_user is None:
            raise DomainError("只能移交给本信访机构的接待员或办案员", field="to_user_id")
    if body.to_unit_id is not None:
        to_unit = Unit.objects.filter(pk=body.to_unit_id).first()
        if to_unit is None:
            raise DomainError("单位不存在", field="to_unit_id")
    event = desk.case_hand_over(
        case=case, by=current_user(request), reason=body.reason, to_user=to_user, to_unit=to_unit
    )
    return {"event": out.event(event, show_repeat_of=False)}


@router.post(
    "/cases/{case_id}/counselling",
    response={200: EventOut, **WRITE_ERRORS},
    summary="转介心理疏导",
    operation_id="case_refer_counselling",
    description=desk.case_refer_counselling.__doc__ or "",
)
def refer_counselling(request: HttpRequest, case_id: int, body: CounsellingIn) -> Any:
    case = access.case_or_404(request, case_id)
    event = desk.case_refer_counselling(case=case, by=current_user(request), note=body.note)
    return {"event": out.event(event, show_repeat_of=False)}
