"""Session limits and the second factor, checked on every request of a logged-in user.

``SessionSecurityMiddleware`` (after ``MessageMiddleware``): ends a session that was idle
longer than ``ACCOUNTS_IDLE_TIMEOUT``, is older than ``ACCOUNTS_SESSION_MAX_AGE`` since the
password was entered, or predates the user's last "logout everywhere" (epoch). Outside debug
mode it also takes away ``is_superuser`` for the request (no superuser shortcut).

``TwoFactorMiddleware`` (after it and after ``OTPMiddleware``): a user with a confirmed device
must verify it once per session; a user of an admin role without a device is sent to set one
up. Until then only the login/logout pages and the OTP pages answer.

Both answer a plain page with a redirect to the right page, an HTMX request with
``HX-Redirect``, and a JSON API call with 401 and a Chinese message.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse

from xinfang.accounts import sessions as S
from xinfang.accounts.policy import otp_required, superuser_shortcut

SEEN_RESOLUTION = 60  # seconds: last activity is written at most once a minute

EXPIRED_MESSAGES = {
    "idle": "您已超过 {minutes} 分钟未操作，为保护信息安全已自动退出，请重新登录。",
    "absolute": "本次登录已超过 {hours} 小时，为保护信息安全已自动退出，请重新登录。",
    "epoch": "您的账号已在“我的账号”中退出全部会话，请重新登录。",
}


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _redirect(
    request: HttpRequest, url: str, *, status: int, detail: str, code: str
) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": detail, "field": None, "code": code}, status=status)
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=200)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


def _with_next(url: str, request: HttpRequest) -> str:
    if request.method == "GET" and not request.headers.get("HX-Request"):
        return f"{url}?{urlencode({'next': request.get_full_path()})}"
    return url


class SessionSecurityMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            expired = self._check(request, user)
            if expired:
                return self._expire(request, expired)
            if user.is_superuser and not superuser_shortcut():
                user.is_superuser = False  # this request only; production has no superusers
        return self.get_response(request)

    def _check(self, request: HttpRequest, user: object) -> str:
        session = request.session
        now = int(time.time())
        auth_at = session.get(S.AUTH_AT)
        if auth_at is None:  # a session from before these stamps existed: start counting now
            S.stamp(request, user)
            return ""
        seen_at = int(session.get(S.SEEN_AT, auth_at))
        if now - seen_at > settings.ACCOUNTS_IDLE_TIMEOUT:
            return "idle"
        if now - int(auth_at) > settings.ACCOUNTS_SESSION_MAX_AGE:
            return "absolute"
        if int(session.get(S.EPOCH, 0)) != S.current_epoch(user.pk):  # type: ignore[attr-defined]
            return "epoch"
        if now - seen_at >= SEEN_RESOLUTION:
            session[S.SEEN_AT] = now
        return ""

    def _expire(self, request: HttpRequest, reason: str) -> HttpResponse:
        message = EXPIRED_MESSAGES[reason].format(
            minutes=settings.ACCOUNTS_IDLE_TIMEOUT // 60,
            hours=settings.ACCOUNTS_SESSION_MAX_AGE // 3600,
        )
        request._xf_logout_reason = reason  # type: ignore[attr-defined]
        logout(request)
        if not _is_api(request):
            messages.warning(request, message)
        return _redirect(
            request,
            _with_next(reverse(settings.LOGIN_URL), request),
            status=401,
            detail=message,
            code="session_expired",
        )


OTP_FREE_PREFIXES = ("/account/otp/", "/login/", "/logout/", "/healthz")


class TwoFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(OTP_FREE_PREFIXES)
            and not request.path.startswith("/" + settings.STATIC_URL.lstrip("/"))
            and not user.is_verified()
        ):
            if request.session.get(S.HAS_OTP):
                return _redirect(
                    request,
                    _with_next(reverse("accounts:otp_verify"), request),
                    status=401,
                    detail="请先在网页上完成双因素认证（输入动态验证码）后再调用接口。",
                    code="otp_required",
                )
            if otp_required(user):
                return _redirect(
                    request,
                    _with_next(reverse("accounts:otp_setup"), request),
                    status=401,
                    detail="您的角色必须启用双因素认证，请先在网页上完成绑定。",
                    code="otp_setup_required",
                )
        return self.get_response(request)
