"""Faults of the machine, not of the request: the database is down or locked, the disk is full.

They answer **503** with a Chinese message and ``Retry-After`` — never a 500 with a traceback —
and one ``logger.error`` line naming the cause (no personal data: the method, the path, the
exception class and its first line). The typed form is not lost: a plain form post shows a page
saying so (the browser's Back button returns to the filled form); an HTMX post gets a fragment
shown above the page while the form stays as it was; the API answers ``{"detail": …}``.
"""

from __future__ import annotations

import errno
import logging
from typing import Any

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

logger = logging.getLogger("xinfang.faults")

RETRY_AFTER_SECONDS = 30
STORAGE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS}

DISK_FULL = "disk_full"
READ_ONLY = "storage_read_only"
DB_LOCKED = "database_locked"
DB_DOWN = "database_unavailable"

MESSAGES = {
    DISK_FULL: "系统暂时无法保存：服务器存储空间不足，请稍后再试，并通知系统管理员。",
    READ_ONLY: "系统暂时无法保存：服务器存储处于只读状态，请稍后再试，并通知系统管理员。",
    DB_LOCKED: "系统繁忙，数据库暂时无法写入，请稍后再试。",
    DB_DOWN: "数据库暂不可用，请稍后再试；如持续出现，请通知系统管理员。",
}
NOT_LOST = "您填写的内容没有丢失：返回上一页即可看到原表单，稍后重新提交即可。"


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 10:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def fault_cause(exc: BaseException) -> str | None:
    """Which machine fault ``exc`` is (a ``MESSAGES`` key), or None for an ordinary error."""
    for item in _chain(exc):
        if isinstance(item, OSError) and item.errno in STORAGE_ERRNOS:
            return READ_ONLY if item.errno == errno.EROFS else DISK_FULL
    for item in _chain(exc):
        if isinstance(item, OperationalError | InterfaceError) or (
            type(item).__name__ in {"OperationalError", "InterfaceError"}
        ):
            text = str(item).lower()
            if "disk is full" in text or "no space left" in text or "disk full" in text:
                return DISK_FULL
            if "readonly" in text or "read-only" in text:
                return READ_ONLY
            if "locked" in text:
                return DB_LOCKED
            return DB_DOWN
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else ""


def log_fault(request: HttpRequest, cause: str, exc: BaseException) -> None:
    logger.error(
        "503 %s: %s %s — %s: %s",
        cause,
        request.method,
        request.path,
        type(exc).__name__,
        _first_line(exc),
    )


def fault_response(request: HttpRequest, cause: str) -> HttpResponse:
    message = MESSAGES[cause]
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {"detail": message, "field": None, "code": cause},
            status=503,
            json_dumps_params={"ensure_ascii": False},
        )
    elif request.headers.get("HX-Request"):
        html = render_to_string(
            "_fault.html",
            {"message": message, "not_lost": "表单中的内容仍保留在页面上，稍后再点提交即可。"},
        )
        response = HttpResponse(html, status=503)
        # Shown in the message area; the form the user typed into stays untouched.
        response["HX-Retarget"] = "#messages"
        response["HX-Reswap"] = "innerHTML"
    else:
        html = render_to_string(
            "503.html", {"message": message, "not_lost": NOT_LOST, "post": request.method == "POST"}
        )
        response = HttpResponse(html, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def handle(request: HttpRequest, exc: BaseException) -> HttpResponse | None:
    """The 503 answer for a machine fault (logged), or None when ``exc`` is something else."""
    cause = fault_cause(exc)
    if cause is None:
        return None
    log_fault(request, cause, exc)
    return fault_response(request, cause)


def install_ninja(api: Any) -> None:
    """The API answers faults itself (Ninja would otherwise show a traceback in debug mode)."""

    def _fault(request: HttpRequest, exc: Exception) -> HttpResponse:
        response = handle(request, exc)
        if response is None:
            raise exc
        return response

    for kind in (OperationalError, InterfaceError, OSError):
        api.add_exception_handler(kind, _fault)
