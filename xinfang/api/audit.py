"""``GET /audit/entries`` and ``GET /audit/verify``: the audit log for 审计员, read-only.

Anyone without a 审计员 post gets 404 (the endpoints do not exist for them), like the pages
under ``/audit/``. Same filters and order (newest first) as the auditor's page.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from xinfang.api.auth import current_user
from xinfang.api.errors import READ_ERRORS, NotFound
from xinfang.audit import selectors
from xinfang.audit.chain import KIND_LABELS
from xinfang.audit.services import ACTIONS

router = Router()

NOT_FOUND = "未找到该资源"


class AuditQuery(Schema):
    action: str = Field(
        "", max_length=40, description="操作代码，如 login、case_event、admin_change"
    )
    actor: str = Field("", max_length=150, description="操作人姓名或用户名（包含）")
    object_type: str = Field("", max_length=40, description="对象类型，如 case、membership")
    object_id: str = Field("", max_length=64, description="对象 ID")
    date_from: dt.date | None = Field(None, description="日期起（含）")
    date_to: dt.date | None = Field(None, description="日期止（含）")
    q: str = Field("", max_length=100, description="摘要关键词")
    page: int = Field(1, ge=1, le=1_000_000, description="页码，从1开始")
    page_size: int = Field(50, ge=1, le=200, description="每页条数（1–200）")


class AuditEntryOut(Schema):
    seq: int
    at: dt.datetime
    actor_id: int | None
    actor_name: str
    action: str
    action_label: str
    object_type: str
    object_id: str
    summary: str
    detail: dict[str, Any]
    ip: str
    prev_hash: str
    hash: str


class AuditPage(Schema):
    count: int = Field(description="符合条件的总数")
    page: int
    page_size: int
    items: list[AuditEntryOut]


class FindingOut(Schema):
    seq: int | None
    kind: str = Field(description="modified/deleted/inserted/reordered/truncated/head/omitted")
    kind_label: str
    message: str


class VerifyOut(Schema):
    ok: bool
    checked: int = Field(description="校验的记录数")
    head_seq: int = Field(description="链头序号")
    summary: str
    findings: list[FindingOut]


def _require_auditor(request: HttpRequest) -> None:
    if not selectors.is_auditor(current_user(request)):
        raise NotFound(NOT_FOUND)


@router.get(
    "/audit/entries",
    response={200: AuditPage, **READ_ERRORS},
    tags=["审计"],
    summary="审计日志（筛选、分页）",
    operation_id="audit_entries",
    description="仅审计员可用（其他用户 404）。按序号倒序（最新在前）。",
)
def audit_entries(request: HttpRequest, filters: Query[AuditQuery]) -> Any:
    _require_auditor(request)
    qs = selectors.entries(
        selectors.AuditFilter(
            action=filters.action,
            actor=filters.actor.strip(),
            object_type=filters.object_type.strip(),
            object_id=filters.object_id.strip(),
            date_from=filters.date_from,
            date_to=filters.date_to,
            q=filters.q.strip(),
        )
    )
    paginator = Paginator(qs, filters.page_size)
    page = paginator.page(min(filters.page, max(1, paginator.num_pages)))
    return {
        "count": paginator.count,
        "page": page.number,
        "page_size": filters.page_size,
        "items": [
            {
                "seq": e.seq,
                "at": e.at,
                "actor_id": e.actor_id,
                "actor_name": e.actor_name,
                "action": e.action,
                "action_label": ACTIONS.get(e.action, e.action),
                "object_type": e.object_type,
                "object_id": e.object_id,
                "summary": e.summary,
                "detail": e.detail if isinstance(e.detail, dict) else {"value": e.detail},
                "ip": e.ip,
                "prev_hash": e.prev_hash,
                "hash": e.hash,
            }
            for e in page.object_list
        ],
    }


@router.get(
    "/audit/verify",
    response={200: VerifyOut, **READ_ERRORS},
    tags=["审计"],
    summary="校验审计日志哈希链",
    operation_id="audit_verify",
    description="逐条核对哈希链（与 `manage.py audit_verify` 相同），列出被修改、删除、插入、"
    "调换顺序的记录和被截断的链尾。仅审计员可用（其他用户 404）。",
)
def audit_verify(request: HttpRequest) -> Any:
    _require_auditor(request)
    result = selectors.verify_chain()
    return {
        "ok": result.ok,
        "checked": result.report.checked,
        "head_seq": result.head_seq,
        "summary": result.summary(),
        "findings": [
            {
                "seq": f.seq,
                "kind": f.kind,
                "kind_label": KIND_LABELS.get(f.kind, f.kind),
                "message": f.message,
            }
            for f in result.report.findings
        ],
    }
