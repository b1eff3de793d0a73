"""How failures leave the API: every error is ``{"detail": 中文, "field": …, "code": …}``.

The services raise domain errors with the Chinese message already in them; this module only
chooses the status and the ``code``:

=====================  ======  ==========================================================
error                  status  when
=====================  ======  ==========================================================
DomainError            400     a field or rule of the domain is broken (``field`` names it)
PermissionDenied       403     the case is visible but this user may not do this to it
TransitionNotAllowed   409     the case's current state does not allow the action
ConcurrentChange       409     someone else changed the case between read and write
(not visible)          404     no such case, or not in the user's units
(pydantic)             422     the request does not have the documented shape
=====================  ======  ==========================================================

The two 409s are told apart by ``code`` (``transition_not_allowed`` / ``concurrent_change``):
both mean "reload the case and look again".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from xinfang.api.auth import CsrfFailed
from xinfang.api.schemas import ErrorOut, ValidationErrorOut
from xinfang.core.errors import (
    ConcurrentChange,
    DomainError,
    IdempotencyConflict,
    PermissionDenied,
    TransitionNotAllowed,
)

NOT_FOUND = "未找到该信访事项（不存在或不在您的权限范围内）"

# The documented error responses of each kind of operation (for the OpenAPI schema).
READ_ERRORS: dict[int, Any] = {401: ErrorOut, 404: ErrorOut, 422: ValidationErrorOut}
WRITE_ERRORS: dict[int, Any] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    422: ValidationErrorOut,
}


class NotFound(HttpError):
    def __init__(self, message: str = NOT_FOUND) -> None:
        super().__init__(404, message)


def with_field_map(mapping: Callable[[str], str], fn: Callable[[], Any]) -> Any:
    """Run ``fn``; a DomainError's field is renamed to the request body's name for it."""
    try:
        return fn()
    except DomainError as exc:
        if exc.field:
            exc.field = mapping(exc.field)
        raise


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    429: "throttled",
}
_HTTP_MESSAGES = {
    "Cannot parse request body": "请求体不是合法的 JSON（没有字段时请发送 {}）",
    "Too many requests.": "请求过于频繁，请稍后再试",
}

# pydantic error types → Chinese; {ctx} keys are filled from the error's context.
_VALIDATION_ZH = {
    "missing": "必填",
    "string_type": "应为字符串",
    "string_too_long": "过长：最多{max_length}个字符",
    "string_too_short": "不能为空",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "float_parsing": "应为数字",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "datetime_type": "日期时间格式不正确，应为 ISO 8601，如 2025-05-01T09:30:00+08:00",
    "datetime_parsing": "日期时间格式不正确，应为 ISO 8601，如 2025-05-01T09:30:00+08:00",
    "datetime_from_date_parsing": "日期时间格式不正确，应为 ISO 8601，如 2025-05-01T09:30:00+08:00",
    "date_type": "日期格式不正确，应为 YYYY-MM-DD",
    "date_parsing": "日期格式不正确，应为 YYYY-MM-DD",
    "date_from_datetime_parsing": "日期格式不正确，应为 YYYY-MM-DD",
    "date_from_datetime_inexact": "应为日期（YYYY-MM-DD），不带时间",
    "greater_than_equal": "不能小于{ge}",
    "less_than_equal": "不能大于{le}",
    "enum": "取值无效，可选：{expected}",
    "literal_error": "取值无效，可选：{expected}",
    "list_type": "应为数组",
    "too_long": "过多：最多{max_length}项",
    "too_short": "过少：至少{min_length}项",
    "string_pattern_mismatch": "格式不正确，应符合 {pattern}",
    "dict_type": "应为对象",
    "model_type": "应为对象",
    "model_attributes_type": "应为对象",
    "json_invalid": "请求体不是合法的 JSON",
    "extra_forbidden": "不允许的字段",
}


def _loc_text(loc: Sequence[Any]) -> str:
    # ninja prefixes the source ("body"/"query"/"path") and, for bodies, the parameter name.
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body" and len(parts) > 2:
        parts = parts[2:]
    elif parts and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:]
    return ".".join(parts)


def _zh(error: dict[str, Any]) -> str:
    template = _VALIDATION_ZH.get(error.get("type", ""))
    if template is None:
        return str(error.get("msg", ""))
    try:
        return template.format(**(error.get("ctx") or {}))
    except (KeyError, IndexError):
        return str(error.get("msg", ""))


def install(api: NinjaAPI) -> None:
    """Register the exception handlers that give every error the shape above."""

    def error(
        request: HttpRequest, status: int, detail: str, code: str, field: str | None = None
    ) -> HttpResponse:
        return api.create_response(
            request, {"detail": detail, "field": field, "code": code}, status=status
        )

    @api.exception_handler(DomainError)
    def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        return error(request, 400, exc.message, "invalid", exc.field)

    @api.exception_handler(PermissionDenied)
    def _permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return error(request, 403, exc.message, "permission_denied", exc.field)

    @api.exception_handler(TransitionNotAllowed)
    def _transition_not_allowed(request: HttpRequest, exc: TransitionNotAllowed) -> HttpResponse:
        return error(request, 409, exc.message, "transition_not_allowed", exc.field)

    @api.exception_handler(IdempotencyConflict)
    def _idempotency_conflict(request: HttpRequest, exc: IdempotencyConflict) -> HttpResponse:
        return error(request, 409, exc.message, "idempotency_conflict", "idempotency_key")

    @api.exception_handler(ConcurrentChange)
    def _concurrent_change(request: HttpRequest, exc: ConcurrentChange) -> HttpResponse:
        return error(request, 409, exc.message, "concurrent_change", exc.field)

    @api.exception_handler(AuthenticationError)
    def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        message = exc.message if exc.message != "Unauthorized" else "未登录：请登录或提供 API 令牌"
        response = error(request, 401, message, "unauthenticated")
        response["WWW-Authenticate"] = 'Bearer realm="xinfang"'
        return response

    @api.exception_handler(CsrfFailed)
    def _csrf_failed(request: HttpRequest, exc: CsrfFailed) -> HttpResponse:
        return error(request, 403, exc.message, "csrf")

    @api.exception_handler(Http404)
    def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return error(request, 404, NOT_FOUND, "not_found")

    @api.exception_handler(HttpError)
    def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        code = _HTTP_CODES.get(exc.status_code, "error")
        message = _HTTP_MESSAGES.get(exc.message, exc.message)
        return error(request, exc.status_code, message, code)

    @api.exception_handler(ValidationError)
    def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        items = [
            {"loc": list(e.get("loc", ())), "msg": _zh(e), "type": str(e.get("type", ""))}
            for e in exc.errors
        ]
        shown = "；".join(f"{_loc_text(i['loc'])} {i['msg']}".strip() for i in items[:3]) + (
            "……" if len(items) > 3 else ""
        )
        return api.create_response(
            request,
            {"detail": f"请求数据有误：{shown}", "code": "validation", "errors": items},
            status=422,
        )
