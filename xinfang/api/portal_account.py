"""Public portal API (公众账号): the list of a citizen account's petitions.

Stateless: every call carries the phone and the password (no session, no token, no CSRF). A
wrong phone, wrong password or deactivated account is one answer — 401 with the same
message — and the call is rate limited per client address and per phone like the login page
(``portal_login_ip``, ``portal_login_phone``; 429 with ``Retry-After``). Registration and
password reset are on the pages only (they need the text-message code).
"""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Field, Router, Schema

from xinfang.api.schemas import ErrorOut
from xinfang.core.errors import DomainError
from xinfang.core.ratelimit import client_ip
from xinfang.portal import accounts

router = Router(tags=["网上信访（公众）"], auth=None)


class AccountIn(Schema):
    phone: str = Field(..., max_length=40, description="注册账号的手机号码（11位，任一写法）")
    password: str = Field(..., max_length=accounts.PASSWORD_MAX_LENGTH, description="账号密码")


class AccountCaseOut(Schema):
    number: str = Field(..., description="事项编号")
    received_at: dt.datetime = Field(..., description="收到时间")
    status_label: str = Field(..., description="面向信访人的办理状态")
    summary: str | None = Field(None, description="诉求摘要；检举控告事项为 null（内容保密）")


class AccountCasesOut(Schema):
    count: int = Field(..., description="事项总数")
    items: list[AccountCaseOut] = Field(
        ..., description=f"事项，新的在前，最多 {accounts.API_MAX_CASES} 件"
    )


def _error(
    status: int, detail: str, code: str, retry_after: int | None = None, field: str | None = None
) -> HttpResponse:
    response = JsonResponse({"detail": detail, "field": field, "code": code}, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


@router.post(
    "/account/cases",
    response={200: AccountCasesOut, 400: ErrorOut, 401: ErrorOut, 429: ErrorOut},
    summary="我的信访（账号）",
    operation_id="portal_account_cases",
)
def portal_account_cases(request: HttpRequest, body: AccountIn) -> object:
    """凭账号的手机号码和密码列出本人的全部信访事项（登录后提交的，以及信访人、联名人、代表
    留了该手机号码的）。手机号码或密码不正确一律返回 401；检举控告事项不返回摘要。"""
    try:
        phone = accounts.mobile(body.phone)
    except DomainError:
        phone = ""
    over = accounts.throttled(
        ("portal_login_ip", client_ip(request)),
        ("portal_login_phone", phone or body.phone.strip()[:40]),
    )
    if over is not None:
        return _error(429, accounts.throttled_message(over), "throttled", over.retry_after)
    if not phone:
        return _error(400, "请填写11位手机号码（以13–19开头）", "invalid", field="phone")
    account = accounts.account_authenticate(phone, body.password)
    if account is None:
        return _error(401, accounts.LOGIN_FAILED, "unauthenticated")
    cases = accounts.account_case_list(account)
    rows = [accounts.case_row(case) for case in cases[: accounts.API_MAX_CASES]]
    return {
        "count": cases.count(),
        "items": [
            {
                "number": r["number"],
                "received_at": r["received_at"],
                "status_label": r["status_label"],
                "summary": r["summary"],
            }
            for r in rows
        ],
    }
