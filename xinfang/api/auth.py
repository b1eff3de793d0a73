"""Who is calling: a per-user API token (``Authorization: Bearer xf_…``) or the browser session.

Token first: a request that presents a bearer token is judged by that token alone (an unknown or
revoked token is a 401, never a fall-through to the session). Without a token the Django session
is used, and for unsafe methods the CSRF token must be sent (``X-CSRFToken`` header), exactly as
for the HTML forms. Either way the authenticated user is ``request.auth`` (and ``request.user``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from ninja.errors import AuthenticationError, HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from xinfang.org.models import ApiToken

# Writing last_used_at on every call would make every read a write; once a minute is enough.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


class CsrfFailed(HttpError):
    def __init__(self) -> None:
        super().__init__(
            403,
            "CSRF 校验失败：使用登录会话调用写操作时，须在 X-CSRFToken 请求头中"
            "携带 csrftoken Cookie 的值（系统对接请改用 API 令牌）",
        )


class TokenAuth(HttpBearer):
    """``Authorization: Bearer xf_…`` — a token issued with ``manage.py issue_api_token``."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = ApiToken.find_active(token.strip()) if token.strip() else None
        if found is None:
            raise AuthenticationError(401, "API 令牌无效、已吊销或其用户已停用")
        now = timezone.now()
        if found.last_used_at is None or now - found.last_used_at >= LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
        request.user = found.user
        return found.user


class SessionAuth(APIKeyCookie):
    """The logged-in browser session; unsafe methods need the CSRF token like any form post.

    An anonymous request is simply not authenticated here (401 in the end), so the CSRF check
    only ever speaks to a caller who does hold a session.
    """

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        return request.COOKIES.get(self.param_name)  # CSRF is checked in authenticate()

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        csrf_exempt = getattr(request, "_ninja_csrf_exempt", False)
        if self.csrf and not csrf_exempt and check_csrf(request) is not None:
            raise CsrfFailed()
        return user


def current_user(request: HttpRequest) -> Any:
    """The authenticated user of an API request (set by one of the auth classes above)."""
    return request.auth  # type: ignore[attr-defined]
