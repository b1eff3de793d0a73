"""答复意见书 over the API: read the case's draft, save it, submit, approve, reject, check and
serve — the same services as the case page's panel (``xinfang.replies.services``)."""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from xinfang.api import access
from xinfang.api import serialize as out
from xinfang.api.auth import current_user
from xinfang.api.errors import WRITE_ERRORS, ErrorOut, with_field_map
from xinfang.api.schemas import ActionResult
from xinfang.cases.models import Case, ServeMethod
from xinfang.cases.policy import may_add_to_file
from xinfang.replies import boilerplate as B
from xinfang.replies import services as RS
from xinfang.replies.models import ReplyDraft

router = Router(tags=["答复意见书"])


class DraftIn(Schema):
    facts: str = Field("", max_length=20000, description="查明的事实（至少10字）")
    basis: str = Field("", max_length=20000, description="处理依据（至少10字）")
    decision: str = Field("", max_length=20000, description="处理意见（至少10字）")
    review_organ: str = Field(
        "", max_length=100, description="复查机关（默认：承办单位的上一级机关）"
    )
    extra: str = Field("", max_length=20000, description="其他事项（可选）")
    title: str = Field("", max_length=200, description="标题（留空用模板标题）")


class RejectIn(Schema):
    reason: str = Field(max_length=4000, description="退回理由")


class ServeIn(Schema):
    served_on: dt.date = Field(description="送达日期")
    method: ServeMethod = Field(
        description="送达方式：in_person 当面送达、post 邮寄送达、sms 短信告知、portal 网上送达"
    )


class PersonOut(Schema):
    name: str | None
    at: dt.datetime | None


class DraftOut(Schema):
    id: int | None
    state: dict[str, str] | None
    template: dict[str, str]
    title: str
    opening: str
    facts: str
    basis: str
    decision: str
    extra: str
    review_organ: str
    closing: str
    drafted: PersonOut
    approved: PersonOut
    checked: PersonOut
    served_on: dt.date | None
    reject_note: str


def _who(user: Any, at: Any) -> dict[str, Any]:
    return {"name": out.person_name(user) or None, "at": out.local(at) if at else None}


def _draft_out(case: Case, draft: ReplyDraft | None) -> dict[str, Any]:
    values = (
        RS.new_draft_values(case)
        if draft is None
        else {
            f: getattr(draft, f)
            for f in ("template", "title", "facts", "basis", "decision", "extra", "review_organ")
        }
    )
    tpl = B.template_for(values["template"])
    return {
        "id": draft.pk if draft else None,
        "state": {"code": draft.state, "label": draft.get_state_display()} if draft else None,
        "template": {"code": tpl.code, "label": tpl.label},
        "title": values["title"],
        "opening": B.opening_for(case),
        "facts": values["facts"],
        "basis": values["basis"],
        "decision": values["decision"],
        "extra": values["extra"],
        "review_organ": values["review_organ"],
        "closing": B.LEGAL_PARAGRAPH.format(organ=values["review_organ"]),
        "drafted": _who(draft and draft.drafted_by, draft and draft.drafted_at),
        "approved": _who(draft and draft.approved_by, draft and draft.approved_at),
        "checked": _who(draft and draft.checked_by, draft and draft.checked_at),
        "served_on": draft.served_on if draft else None,
        "reject_note": draft.reject_note if draft else "",
    }


@router.get(
    "/cases/{case_id}/reply-draft",
    response={200: DraftOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="答复意见书（当前稿或已送达稿；无稿时为模板初稿，id 为 null）",
    operation_id="reply_draft_get",
)
def reply_draft_get(request: HttpRequest, case_id: int) -> Any:
    case = access.case_or_404(request, case_id)
    if not may_add_to_file(current_user(request), case):
        return 403, {
            "detail": "只有登记单位或承办单位的工作人员可以查看答复意见书",
            "field": None,
            "code": "permission_denied",
        }
    draft = RS.live_draft(case) or RS.served_draft(case)
    return _draft_out(case, draft)


def _post(path: str, service: Callable[..., Any], summary: str, response: Any = None) -> Any:
    return router.post(
        f"/cases/{{case_id}}/reply-draft{path}",
        response={200: response or DraftOut, **WRITE_ERRORS},
        summary=summary,
        operation_id=f"reply_draft{path.replace('/', '_') or '_save'}",
        description=inspect.cleandoc(service.__doc__ or ""),
    )


def _step(request: HttpRequest, case_id: int, service: Callable[..., Any], **kwargs: Any) -> Any:
    case = access.case_or_404(request, case_id)
    draft = with_field_map(
        lambda f: f, lambda: service(case=case, by=current_user(request), **kwargs)
    )
    return _draft_out(case, draft)


@_post("", RS.draft_save, "起草或修改答复意见书")
def reply_draft_save(request: HttpRequest, case_id: int, body: DraftIn) -> Any:
    return _step(request, case_id, RS.draft_save, **body.dict())


@_post("/submit", RS.draft_submit, "提交单位负责人审批")
def reply_draft_submit(request: HttpRequest, case_id: int) -> Any:
    return _step(request, case_id, RS.draft_submit)


@_post("/approve", RS.draft_approve, "单位负责人审批同意")
def reply_draft_approve(request: HttpRequest, case_id: int) -> Any:
    return _step(request, case_id, RS.draft_approve)


@_post("/reject", RS.draft_reject, "退回修改（单位负责人或信访机构）")
def reply_draft_reject(request: HttpRequest, case_id: int, body: RejectIn) -> Any:
    return _step(request, case_id, RS.draft_reject, reason=body.reason)


@_post("/check", RS.draft_check, "信访机构审核通过")
def reply_draft_check(request: HttpRequest, case_id: int) -> Any:
    return _step(request, case_id, RS.draft_check)


@_post("/serve", RS.draft_serve, "送达答复意见书（答复）", response=ActionResult)
def reply_draft_serve(request: HttpRequest, case_id: int, body: ServeIn) -> Any:
    return serve(request, case_id, body.served_on, body.method.value)


def serve(request: HttpRequest, case_id: int, served_on: dt.date, method: str) -> dict[str, Any]:
    """Shared with ``POST /cases/{id}/actions/reply``: the event and the case after it."""
    case = access.case_or_404(request, case_id)
    event = with_field_map(
        lambda f: f,
        lambda: RS.draft_serve(
            case=case, by=current_user(request), served_on=served_on, method=method
        ),
    )
    after = access.visible(request).filter(pk=case_id).exists()
    return {
        "event": out.event(event, show_repeat_of=False),
        "case": out.fresh_detail(request, case_id) if after else None,
    }
