"""检举控告 in the API: the audited reveal, adding accused later, and the list export (CSV).

The rules are ``cases.confidential``'s; cases are fetched through ``access`` (so through
``policy.cases_visible_to``: an accused person or unit gets 404, like for any other case
outside their view).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema

from xinfang.api import access
from xinfang.api import serialize as out
from xinfang.api.auth import current_user
from xinfang.api.errors import READ_ERRORS, WRITE_ERRORS, NotFound
from xinfang.api.schemas import AttachmentOut, CaseListQuery, DbId, EventOut, PartyOut, UnitRef
from xinfang.cases import confidential
from xinfang.cases.exports import export_response

router = Router()


class PersonRef(Schema):
    id: int
    name: str


class RevealOut(Schema):
    case_id: int
    number: str
    summary: str
    content: str
    accused_units: list[UnitRef]
    accused_persons: list[PersonRef]
    accused_text: str = Field(description="不在本系统中的被检举控告对象")
    petitioners: list[PartyOut] = Field(description="信访人（姓名完整；证件号与电话仍脱敏）")
    attachments: list[AttachmentOut]


class AccusedIn(Schema):
    unit_ids: list[DbId] = Field(default_factory=list, description="被检举控告单位 ID")
    person_ids: list[DbId] = Field(default_factory=list, description="被检举控告人（用户）ID")
    text: str = Field("", max_length=2000, description="其他被检举控告对象")


class AccusedOut(Schema):
    event: EventOut
    pulled_back: bool = Field(description="原承办单位需回避，事项已收回为“已退回”")
    visible: bool = Field(description="操作后您是否仍能查看该事项")


def _confidential_case(request: HttpRequest, case_id: int) -> Any:
    case = access.case_or_404(request, case_id)
    if not case.is_confidential:
        raise NotFound("该事项不是检举控告件，无需查看保密内容")
    return case


@router.post(
    "/cases/{case_id}/reveal",
    response={200: RevealOut, **{k: v for k, v in WRITE_ERRORS.items() if k != 409}},
    tags=["检举控告"],
    summary="查看检举控告内容（记入审计日志）",
    operation_id="case_reveal",
    description="检举控告件的诉求摘要、详细内容、被检举控告对象、信访人姓名与附件名称。"
    "每次调用写一条审计记录（reveal）。响应带 `Cache-Control: no-store`。"
    "被检举控告的人员、单位及其下级单位看不到该事项（404，不记审计）。",
)
def case_reveal(request: HttpRequest, response: HttpResponse, case_id: int) -> Any:
    response["Cache-Control"] = "no-store, private"
    case = _confidential_case(request, case_id)
    data = confidential.reveal(case, current_user(request), request)
    parties = out._parties(case)
    return {
        "case_id": case.pk,
        "number": case.number,
        "summary": data["summary"],
        "content": data["content"],
        "accused_units": [{"id": u.pk, "name": u.name} for u in data["accused_units"]],
        "accused_persons": [
            {"id": p.pk, "name": p.get_full_name() or p.get_username()}
            for p in data["accused_persons"]
        ],
        "accused_text": data["accused_text"],
        "petitioners": parties,
        "attachments": [out.attachment(a) for a in data["attachments"]],
    }


@router.post(
    "/cases/{case_id}/accused",
    response={200: AccusedOut, **WRITE_ERRORS},
    tags=["检举控告"],
    summary="补充被检举控告对象",
    operation_id="case_accused_add",
    description=confidential.case_set_accused.__doc__ or "",
)
def case_accused_add(request: HttpRequest, case_id: int, body: AccusedIn) -> Any:
    case = _confidential_case(request, case_id)
    user = current_user(request)
    before = case.status
    ev = confidential.case_set_accused(
        case=case, by=user, unit_ids=body.unit_ids, person_ids=body.person_ids, text=body.text
    )
    return {
        "event": out.event(ev, show_repeat_of=False),
        "pulled_back": before != case.status,
        "visible": access.visible(request).filter(pk=case.pk).exists(),
    }


@router.get(
    "/cases/export.csv",
    response={**READ_ERRORS},
    tags=["事项"],
    summary="导出事项列表（CSV）",
    operation_id="case_export",
    description="与事项列表相同的检索与筛选（分页参数忽略），导出全部符合条件、您有权查看的事项；"
    "UTF-8（带 BOM，Excel 可直接打开）。检举控告件的摘要与信访人已隐去；证件号与电话脱敏。"
    "每次导出写一条审计记录（export）。",
    openapi_extra={
        "responses": {
            200: {
                "description": "CSV 文件",
                "content": {"text/csv": {"schema": {"type": "string"}}},
            }
        }
    },
)
def case_export(request: HttpRequest, filters: Query[CaseListQuery]) -> Any:
    return export_response(current_user(request), filters.to_filter(), request)
