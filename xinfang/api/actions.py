"""``POST /cases/{case_id}/actions/<code>``: one endpoint per lifecycle action, plus notes.

Each endpoint is one call of the service in ``xinfang.cases.services`` and is documented with that
service's docstring. The answer is the new event and the case as it is now (null when the action
took the case out of the caller's sight, e.g. a street returning it).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from ninja import Router

from xinfang.api import access
from xinfang.api import serialize as out
from xinfang.api.auth import current_user
from xinfang.api.errors import WRITE_ERRORS, with_field_map
from xinfang.api.schemas import (
    ActionResult,
    EvaluateIn,
    ExtensionDecisionIn,
    ExtensionRequestIn,
    NoteIn,
    NoticeIn,
    ReasonIn,
    ReplyIn,
    RouteIn,
    TextIn,
)
from xinfang.cases import services as S
from xinfang.cases.transitions import ACTIONS
from xinfang.core.errors import DomainError
from xinfang.org.models import Unit
from xinfang.replies import services as RS

router = Router()


def _action(code: str, service: Callable[..., Any], **extra: Any) -> Callable[[Any], Any]:
    """``POST /cases/{case_id}/actions/<code>``, documented with the service's docstring."""
    label = ACTIONS[code].label if code in ACTIONS else "备注"
    return router.post(
        f"/cases/{{case_id}}/actions/{code}",
        response={200: ActionResult, **WRITE_ERRORS},
        tags=["事项操作"],
        summary=f"{label}（{code}）",
        operation_id=f"case_{code}",
        description=(
            "成功时返回 200：`event` 为新增的事项动态，`case` 为操作后的事项详情"
            "（操作使事项离开您的权限范围时为 null，如退回后的承办单位）。\n\n"
            + inspect.cleandoc(service.__doc__ or "")
        ),
        **extra,
    )


def _run(
    request: HttpRequest,
    case_id: int,
    service: Callable[..., Any],
    fields: dict[str, str] | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    case = access.case_or_404(request, case_id)
    names = fields or {}
    event = with_field_map(
        lambda f: names.get(f, f),
        lambda: service(case=case, by=current_user(request), **kwargs),
    )
    after = access.visible(request).filter(pk=case_id).exists()
    return {
        "event": out.event(event, show_repeat_of=False),
        "case": out.fresh_detail(request, case_id) if after else None,
    }


def _unit_or_400(unit_id: int) -> Unit:
    unit = Unit.objects.filter(pk=unit_id).first()
    if unit is None:
        raise DomainError("所选单位不存在", field="unit_id")
    return unit


@_action("assign", S.case_assign)
def case_assign(request: HttpRequest, case_id: int, body: RouteIn) -> Any:
    unit = _unit_or_400(body.unit_id)
    return _run(request, case_id, S.case_assign, {"unit": "unit_id"}, unit=unit, note=body.note)


@_action("forward", S.case_forward)
def case_forward(request: HttpRequest, case_id: int, body: RouteIn) -> Any:
    unit = _unit_or_400(body.unit_id)
    return _run(request, case_id, S.case_forward, {"unit": "unit_id"}, unit=unit, note=body.note)


@_action("inform", S.case_inform)
def case_inform(request: HttpRequest, case_id: int, body: ReasonIn) -> Any:
    return _run(request, case_id, S.case_inform, reason=body.reason)


@_action("sign_in", S.case_sign_in)
def case_sign_in(request: HttpRequest, case_id: int) -> Any:
    return _run(request, case_id, S.case_sign_in)


@_action("accept", S.case_accept)
def case_accept(request: HttpRequest, case_id: int, body: NoticeIn) -> Any:
    return _run(request, case_id, S.case_accept, notice_text=body.notice_text)


@_action("refuse", S.case_refuse)
def case_refuse(request: HttpRequest, case_id: int, body: NoticeIn) -> Any:
    return _run(request, case_id, S.case_refuse, notice_text=body.notice_text)


@_action("return", S.case_return)
def case_return(request: HttpRequest, case_id: int, body: ReasonIn) -> Any:
    return _run(request, case_id, S.case_return, reason=body.reason)


@_action("request_extension", S.case_request_extension)
def case_request_extension(request: HttpRequest, case_id: int, body: ExtensionRequestIn) -> Any:
    return _run(request, case_id, S.case_request_extension, days=body.days, reason=body.reason)


@_action("decide_extension", S.case_decide_extension)
def case_decide_extension(request: HttpRequest, case_id: int, body: ExtensionDecisionIn) -> Any:
    return _run(request, case_id, S.case_decide_extension, approve=body.approve, note=body.note)


@_action("reply", RS.draft_serve)
def case_reply(request: HttpRequest, case_id: int, body: ReplyIn) -> Any:
    # Serves the checked 答复意见书 (xinfang.replies); ``text`` is no longer used.
    from xinfang.api.replies import serve

    return serve(request, case_id, body.served_on, body.method.value)


@_action("evaluate", S.case_evaluate)
def case_evaluate(request: HttpRequest, case_id: int, body: EvaluateIn) -> Any:
    return _run(
        request,
        case_id,
        S.case_evaluate,
        evaluation=body.evaluation.value,
        comment=body.comment,
        channel=body.channel.value,
    )


@_action("close", S.case_close)
def case_close(request: HttpRequest, case_id: int, body: NoteIn) -> Any:
    return _run(request, case_id, S.case_close, note=body.note)


@_action("request_review", S.case_request_review)
def case_request_review(request: HttpRequest, case_id: int, body: ReasonIn) -> Any:
    return _run(request, case_id, S.case_request_review, reason=body.reason)


@_action("decide_review", S.case_decide_review)
def case_decide_review(request: HttpRequest, case_id: int, body: TextIn) -> Any:
    return _run(request, case_id, S.case_decide_review, text=body.text)


@_action("request_rereview", S.case_request_rereview)
def case_request_rereview(request: HttpRequest, case_id: int, body: ReasonIn) -> Any:
    return _run(request, case_id, S.case_request_rereview, reason=body.reason)


@_action("decide_rereview", S.case_decide_rereview)
def case_decide_rereview(request: HttpRequest, case_id: int, body: TextIn) -> Any:
    return _run(request, case_id, S.case_decide_rereview, text=body.text)


@_action("note", S.case_add_note)
def case_note(request: HttpRequest, case_id: int, body: TextIn) -> Any:
    return _run(request, case_id, S.case_add_note, text=body.text)
