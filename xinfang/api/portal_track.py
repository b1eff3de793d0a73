"""Public portal API (查询办理): track a case by query code + phone / ID tail, evaluate the
reply, request 复查/复核 — stateless: every call carries the code and the secret.

Any failed proof (unknown or malformed code, wrong secret) is the same HTTP 404 with the same
message, so answers cannot tell codes apart; rate limits per address and per code as on the
page (429 with ``Retry-After``). The state changes are ``portal.tracking``'s, i.e. the same
``cases`` services the staff side calls with the petitioner as actor.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Field, Router, Schema

from xinfang.api.schemas import ErrorOut
from xinfang.cases.models import Case
from xinfang.core.ratelimit import client_ip, rate_hit
from xinfang.portal import services, tracking

router = Router(tags=["网上信访（公众）"], auth=None)

FAILED = "查询码或验证信息不正确，请核对后重试"


class ProofIn(Schema):
    code: str = Field(..., max_length=64, description="查询码（登记回执或提交成功页上）")
    secret: str = Field(..., max_length=64, description="登记的手机号码（任一写法）或身份证号后6位")


class EvaluateIn(ProofIn):
    evaluation: Literal["satisfied", "basically", "unsatisfied"] = Field(
        ..., description="satisfied 满意、basically 基本满意、unsatisfied 不满意"
    )
    comment: str = Field("", max_length=tracking.COMMENT_MAX, description="评价意见（选填）")


class ReviewIn(ProofIn):
    kind: Literal["review", "rereview"] = Field(..., description="review 复查、rereview 复核")
    reason: str = Field(..., max_length=tracking.REASON_MAX, description="请求理由（4字以上）")


class TimelineOut(Schema):
    at: dt.datetime
    kind: str
    title: str
    text: str


class TrackOut(Schema):
    number: str
    status: str = Field(
        ...,
        description="办理状态代码（面向信访人）：received 已收到待受理、routed 已转送交办、"
        "accepted 已受理、informed 已告知、refused 不予受理、replied 已答复、"
        "evaluated 已评价、closed 已办结、review_requested 复查中、reviewed 已复查、"
        "rereview_requested 复核中、final 已终结、merged 已合并办理",
    )
    status_label: str = Field(..., description="面向信访人的办理状态")
    received_at: dt.datetime
    confidential: bool = Field(..., description="检举控告事项：只返回编号、日期和状态")
    unit: str | None = Field(None, description="办理单位名称（检举控告事项为 null）")
    deadlines: list[str] = Field(default_factory=list, description="法定办理期限")
    merged_into: str | None = Field(None, description="合并办理的事项编号")
    timeline: list[TimelineOut]
    can_evaluate: bool
    evaluate_until: dt.date | None
    can_review: bool
    review_until: dt.date | None
    can_rereview: bool
    rereview_until: dt.date | None


RESPONSES = {200: TrackOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut, 429: ErrorOut}


def _error(status: int, detail: str, code: str, retry_after: int | None = None) -> HttpResponse:
    response = JsonResponse({"detail": detail, "field": None, "code": code}, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def _prove(request: HttpRequest, body: ProofIn, *, act: bool = False) -> Case | HttpResponse:
    """Rate limits (address, code; ``act``: also the 评价/复查 limit), then the proof."""
    scopes = [("portal_track_ip", client_ip(request))]
    if act:
        scopes.append(("portal_act_ip", client_ip(request)))
    for scope, identity in scopes:
        hit = rate_hit(scope, identity)
        if not hit.allowed:
            return _error(429, "请求过于频繁，请稍后再试", "throttled", hit.retry_after)
    blocked = services.code_blocked(body.code)  # per code: failed proofs only
    if blocked is not None:
        return _error(429, "请求过于频繁，请稍后再试", "throttled", blocked.retry_after)
    case = services.verify_access(body.code, body.secret)
    if case is None:
        services.code_failed(body.code)
        return _error(404, FAILED, "not_found")
    return case


def track_out(case: Case) -> dict[str, object]:
    view = tracking.case_view(case)
    return {
        "number": view.number,
        "status": services.public_code(case),
        "status_label": view.status_label,
        "received_at": case.received_at,
        "confidential": view.confidential,
        "unit": view.unit_name or None,
        "deadlines": view.owed,
        "merged_into": view.merged_into_number or None,
        "timeline": [
            {"at": e.at, "kind": e.kind, "title": e.title, "text": e.text} for e in view.timeline
        ],
        "can_evaluate": view.can_evaluate,
        "evaluate_until": view.evaluate_until,
        "can_review": view.review_until is not None,
        "review_until": view.review_until,
        "can_rereview": view.rereview_until is not None,
        "rereview_until": view.rereview_until,
    }


@router.post("/track", response=RESPONSES, summary="查询办理进展", operation_id="portal_track")
def portal_track(request: HttpRequest, body: ProofIn) -> object:
    """凭查询码和手机号码（或身份证号后6位）查询：办理状态、法定期限、公开的办理过程。
    查询码或验证信息不正确时一律返回 404。"""
    proved = _prove(request, body)
    if isinstance(proved, HttpResponse):
        return proved
    return track_out(proved)


@router.post("/evaluate", response=RESPONSES, summary="满意度评价", operation_id="portal_evaluate")
def portal_evaluate(request: HttpRequest, body: EvaluateIn) -> object:
    """答复送达后评价期限内评价（满意/基本满意/不满意）；返回评价后的办理情况。"""
    proved = _prove(request, body, act=True)
    if isinstance(proved, HttpResponse):
        return proved
    tracking.portal_evaluate(proved, body.evaluation, body.comment)
    return track_out(Case.objects.get(pk=proved.pk))


@router.post("/review", response=RESPONSES, summary="请求复查或复核", operation_id="portal_review")
def portal_review(request: HttpRequest, body: ReviewIn) -> object:
    """在复查（复核）请求期限内提出请求；返回提出后的办理情况。"""
    proved = _prove(request, body, act=True)
    if isinstance(proved, HttpResponse):
        return proved
    tracking.portal_request_review(proved, body.kind, body.reason)
    return track_out(Case.objects.get(pk=proved.pk))
