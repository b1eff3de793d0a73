"""Request-wide durability: machine faults answer 503, API retries answer once.

``FaultMiddleware`` turns a database or storage fault raised by a view into the 503 answer of
``xinfang.core.faults`` (``views.server_error`` catches the ones raised by other middleware).

``ApiIdempotencyMiddleware`` makes every ``POST/PUT/PATCH/DELETE /api/…`` that carries an
``Idempotency-Key`` header run at most once per user, path and key (``core.idempotency``): the
request runs in one transaction with the claim, a 2xx answer is stored and replayed byte for
byte (a first ``201`` as ``200``, header ``Idempotent-Replayed: true``), the same key with another
body is a 409, and a failed request leaves no claim behind.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.request import RawPostDataException

from xinfang.core import faults, idempotency
from xinfang.core.errors import DomainError, IdempotencyConflict

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Endpoints with their own documented key handling: registration keeps the key on the case
# (``Case.idempotency_key``, same transaction) and answers a retry with the first case even if
# the body differs ("以首次提交的内容为准").
OWN_IDEMPOTENCY = {("POST", "/api/cases")}
# Reads that are POSTs only to be audited (the full ID number/phone, a 检举控告 case's content):
# they create nothing, so there is nothing to make idempotent, and their answers must neither be
# stored in the database (plaintext personal data) nor replayed without a fresh access check and
# a fresh ``reveal`` audit row.
NOT_STORED = re.compile(r"^/api/.+/reveal/?$")
# A stored answer about a case is replayed only while the caller can still see the case: a
# lost post, or a unit named accused since, makes it the API's own 404 again.
CASE_PATH = re.compile(r"^/api/cases/(\d+)(?:/|$)")


class FaultMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        return faults.handle(request, exc)


def _api_user(request: HttpRequest) -> Any:
    """The caller as the API will see it: the bearer token's user, else the session's."""
    auth = request.headers.get("Authorization", "")
    if auth[:7].lower() == "bearer ":
        from xinfang.org.models import ApiToken

        token = ApiToken.find_active(auth[7:].strip()) if auth[7:].strip() else None
        return token.user if token is not None else None
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def _body_fingerprint(request: HttpRequest) -> str:
    content_type = request.content_type or ""
    if content_type.startswith("multipart/") or content_type == "application/x-www-form-urlencoded":
        return idempotency.post_fingerprint(request)
    try:
        body = request.body
    except RawPostDataException:  # pragma: no cover - the stream was read already
        body = b""
    return idempotency.fingerprint(request.method, request.path, content_type, body)


def _error(status: int, detail: str, code: str) -> JsonResponse:
    return JsonResponse(
        {"detail": detail, "field": idempotency.HEADER, "code": code},
        status=status,
        json_dumps_params={"ensure_ascii": False},
    )


def _authorised_now(request: HttpRequest, user: Any) -> bool:
    """The checks a replay would otherwise skip (it never reaches the view): the CSRF token of
    a session call and, for ``/api/cases/<id>/…``, that the case is still in the caller's view."""
    if request.headers.get("Authorization", "")[:7].lower() != "bearer ":
        from ninja.utils import check_csrf

        if check_csrf(request) is not None:
            return False
    match = CASE_PATH.match(request.path)
    if match is not None:
        from xinfang.cases.policy import cases_visible_to

        return cases_visible_to(user).filter(pk=int(match.group(1))).exists()
    return True


class ApiIdempotencyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.headers.get(idempotency.HEADER, "").strip()
        if (
            not key
            or request.method not in UNSAFE_METHODS
            or not request.path.startswith("/api/")
            or (request.method, request.path) in OWN_IDEMPOTENCY
            or NOT_STORED.match(request.path)
        ):
            return self.get_response(request)
        if not idempotency.valid_key(key):
            return _error(
                400,
                f"Idempotency-Key 应为1至{idempotency.MAX_KEY_LENGTH}个可见ASCII字符",
                "invalid",
            )
        try:
            return self._once(request, key)
        except IdempotencyConflict as exc:
            return _error(409, exc.message, "idempotency_conflict")
        except DomainError as exc:
            return _error(400, exc.message, "invalid")
        except DatabaseError as exc:
            response = faults.handle(request, exc)
            if response is None:
                raise
            return response

    def _once(self, request: HttpRequest, key: str) -> HttpResponse:
        user = _api_user(request)
        if user is None:
            return self.get_response(request)  # the API answers 401 itself
        if not _authorised_now(request, user):
            # No CSRF token on a session call, or a case out of sight: the API gives its own
            # 403/404 and nothing is claimed or replayed.
            return self.get_response(request)
        fingerprint = _body_fingerprint(request)
        scope = f"{request.method} {request.path}"

        def keep(response: HttpResponse) -> idempotency.Stored | None:
            if not 200 <= response.status_code < 300 or response.streaming:
                return None
            return idempotency.Stored(
                status_code=response.status_code,
                content_type=response.get("Content-Type", ""),
                body=response.content.decode(response.charset or "utf-8"),
            )

        once = idempotency.run_once(
            user=user,
            key=key,
            scope=scope,
            fingerprint=fingerprint,
            effect=lambda: self.get_response(request),
            keep=keep,
            # A server-side failure undoes whatever the request wrote, the claim included.
            rollback_if=lambda response: response.status_code >= 500,
        )
        if once.replayed:
            assert once.record is not None
            return idempotency.replay_response(once.record)
        assert once.value is not None
        return once.value
