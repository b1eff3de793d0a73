"""The request being served, for audit rows written from signal receivers (which get no
request): its user is the actor when the changed row names none, its address the IP."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.http import HttpRequest, HttpResponse

_current: ContextVar[HttpRequest | None] = ContextVar("xinfang_audit_request", default=None)


def current_request() -> HttpRequest | None:
    return _current.get()


def current_user() -> Any:
    request = _current.get()
    user = getattr(request, "user", None) if request is not None else None
    return user if getattr(user, "is_authenticated", False) else None


class AuditContextMiddleware:
    """Remembers the request for the audit log while it is served (after authentication)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _current.set(request)
        try:
            return self.get_response(request)
        finally:
            _current.reset(token)
