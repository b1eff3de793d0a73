"""统计考核 API (/api/stats) — 通报 (bulletins): list, one bulletin with its figures, issue,
reissue, files. Same functions as the pages (``stats.bulletins``, ``stats.bulletin_views``);
a bulletin of a unit outside the caller's statistics scope is a 404; issuing and reissuing are
for 办案员 and 领导 (403 otherwise)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from xinfang.api.auth import current_user
from xinfang.api.errors import READ_ERRORS, WRITE_ERRORS, NotFound
from xinfang.core.errors import DomainError, PermissionDenied
from xinfang.org.models import Unit
from xinfang.stats import policy
from xinfang.stats.bulletin_views import bulletin_file_response, parse_period, visible_bulletins
from xinfang.stats.bulletins import BulletinError, period_for, request_bulletin
from xinfang.stats.models import Bulletin

router = Router(tags=["统计考核"])
NOT_FOUND = "未找到该通报（不存在或不在您的统计范围内）"


class BulletinOut(Schema):
    id: int
    kind: str = Field(description="weekly 周通报 / monthly 月通报")
    kind_label: str
    unit_id: int
    unit: str
    period_start: dt.date
    period_end: dt.date
    number: str = Field(description="期号，如 2026年第10期（按单位×类型×年度连续编号）")
    state: str = Field(description="ready 已生成 / failed 生成失败")
    error: str
    step: str = Field(description="生成中（state=pending）时的当前步骤")
    seconds: float | None = Field(description="生成耗时（秒）")
    replaces_id: int | None = Field(description="更正版所取代的通报")
    replaced_by_id: int | None = Field(description="取代本通报的更正版")
    created_by: str | None
    created_at: dt.datetime
    files: dict[str, str] = Field(description="格式 → 下载地址（docx、pdf、xlsx）")


class BulletinDetailOut(BulletinOut):
    figures: dict[str, Any] = Field(
        description="通报所述全部数据的快照（正文段落、各表、超期与督办事项）"
    )
    diff: list[dict[str, Any]] = Field(description="更正版与原通报的差异：[{path, old, new}]")


class BulletinPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[BulletinOut]


class BulletinQuery(Schema):
    kind: str = Field("", description="weekly / monthly")
    year: int | None = Field(None, ge=2000, le=2100)
    unit_id: int | None = Field(None, ge=1, le=2**62)
    page: int = Field(1, ge=1, le=100000)
    page_size: int = Field(20, ge=1, le=100)


class IssueIn(Schema):
    kind: str = Field(description="weekly / monthly")
    week: str = Field("", max_length=10, description="周通报：ISO 周，如 2026-W12")
    month: str = Field("", max_length=7, description="月通报：如 2026-03")
    unit_id: int = Field(ge=1, le=2**62, description="单位（须在您的统计范围内）")


def _name(user: Any) -> str | None:
    return None if user is None else str(user.get_full_name() or user.username)


def _out(b: Bulletin, replaced_by: int | None) -> dict[str, Any]:
    base = f"/stats/bulletins/{b.pk}"
    return {
        "id": b.pk,
        "kind": b.kind,
        "kind_label": b.get_kind_display(),
        "unit_id": b.unit_id,
        "unit": b.unit.name,
        "period_start": b.period_start,
        "period_end": b.period_end,
        "number": b.number,
        "state": b.state,
        "error": b.error,
        "step": b.step,
        "seconds": b.seconds,
        "replaces_id": b.replaces_id,
        "replaced_by_id": replaced_by,
        "created_by": _name(b.created_by),
        "created_at": b.created_at,
        "files": (
            {fmt: f"/api/stats/bulletins/{b.pk}/{fmt}" for fmt in ("docx", "pdf", "xlsx")}
            if b.state == Bulletin.State.READY
            else {}
        )
        | ({"html": f"{base}/"} if b.state == Bulletin.State.READY else {}),
    }


def _detail(b: Bulletin) -> dict[str, Any]:
    newer = b.reissues.order_by("-id").values_list("pk", flat=True).first()
    return {**_out(b, newer), "figures": b.figures, "diff": b.diff}


def _bulletin_or_404(request: HttpRequest, pk: int) -> Bulletin:
    b = (
        visible_bulletins(current_user(request))
        .select_related("unit", "created_by")
        .filter(pk=pk)
        .first()
    )
    if b is None:
        raise NotFound(NOT_FOUND)
    return b


def _manager(request: HttpRequest) -> Any:
    user = current_user(request)
    if not policy.may_read_stats(user):
        raise NotFound(NOT_FOUND)
    if not policy.may_manage_assessment(user):
        raise PermissionDenied("只有办案员和领导可以生成通报")
    return user


@router.get(
    "/bulletins",
    response={200: BulletinPage, **READ_ERRORS},
    summary="通报列表",
    operation_id="stats_bulletins_list",
    description="您统计范围内各单位的周通报、月通报，统计期新的在前。",
)
def bulletins_list(request: HttpRequest, filters: Query[BulletinQuery]) -> Any:
    if filters.kind and filters.kind not in Bulletin.Kind.values:
        raise DomainError("类型应为 weekly 或 monthly", field="kind")
    qs = visible_bulletins(current_user(request))
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.year:
        qs = qs.filter(period_end__year=filters.year)
    if filters.unit_id:
        qs = qs.filter(unit_id=filters.unit_id)
    qs = qs.select_related("unit", "created_by").defer("docx", "pdf", "xlsx", "figures")
    paginator = Paginator(qs.order_by("-period_end", "kind", "-id"), filters.page_size)
    page = paginator.get_page(filters.page)
    rows = list(page.object_list)
    newer = dict(
        Bulletin.objects.filter(replaces_id__in=[b.pk for b in rows]).values_list(
            "replaces_id", "pk"
        )
    )
    return {
        "count": paginator.count,
        "page": page.number,
        "page_size": filters.page_size,
        "items": [_out(b, newer.get(b.pk)) for b in rows],
    }


@router.get(
    "/bulletins/{bulletin_id}",
    response={200: BulletinDetailOut, **READ_ERRORS},
    summary="通报详情（含数据快照）",
    operation_id="stats_bulletins_detail",
)
def bulletins_detail(request: HttpRequest, bulletin_id: int) -> Any:
    return _detail(_bulletin_or_404(request, bulletin_id))


@router.post(
    "/bulletins",
    response={200: BulletinDetailOut, 202: BulletinDetailOut, **WRITE_ERRORS},
    summary="生成通报",
    operation_id="stats_bulletins_issue",
    description=(
        "生成某单位某周（周通报）或某月（月通报）的通报。该期已生成的直接返回（200）；"
        "否则在后台生成并返回 202 和 state=pending 的通报（step 为当前步骤），"
        "轮询 GET /bulletins/{id} 直到 state 为 ready（或 failed）。重复提交返回同一个请求。"
        "只能为已结束的周、月生成。"
    ),
)
def bulletins_issue(request: HttpRequest, body: IssueIn) -> Any:
    user = current_user(request)
    if not policy.may_read_stats(user) or body.unit_id not in set(policy.scope_ids(user)):
        raise NotFound("未找到该单位（不存在或不在您的统计范围内）")
    _manager(request)
    if body.kind not in Bulletin.Kind.values:
        raise DomainError("类型应为 weekly 或 monthly", field="kind")
    try:
        period = parse_period(body.kind, body.week, body.month, timezone.localdate())
    except BulletinError as exc:
        raise DomainError(str(exc), field="week" if body.kind == "weekly" else "month") from None
    unit = Unit.objects.get(pk=body.unit_id)
    try:
        b = request_bulletin(body.kind, unit, period, user)
    except BulletinError as exc:
        raise DomainError(str(exc)) from None
    return Status(200 if b.state == Bulletin.State.READY else 202, _detail(b))


@router.post(
    "/bulletins/{bulletin_id}/reissue",
    response={202: BulletinDetailOut, **WRITE_ERRORS},
    summary="按当前数据重新生成通报",
    operation_id="stats_bulletins_reissue",
    description=(
        "在后台按当前数据生成新版本（202，state=pending；轮询 GET /bulletins/{id}）。"
        "新版本保留期号，取代原通报，并列出与原通报的差异（diff）。"
    ),
)
def bulletins_reissue(request: HttpRequest, bulletin_id: int) -> Any:
    b = _bulletin_or_404(request, bulletin_id)
    user = _manager(request)
    try:
        new = request_bulletin(
            b.kind, b.unit, period_for(b.kind, b.period_start), user, replacing=b
        )
    except BulletinError as exc:
        raise DomainError(str(exc)) from None
    return Status(202, _detail(new))


@router.get(
    "/bulletins/{bulletin_id}/{fmt}",
    response={200: None, **READ_ERRORS},
    summary="下载通报文件",
    operation_id="stats_bulletins_file",
    description="fmt：docx、pdf 或 xlsx。每次下载写入审计日志（导出）。",
)
def bulletins_file(request: HttpRequest, bulletin_id: int, fmt: str) -> Any:
    b = _bulletin_or_404(request, bulletin_id)
    if fmt not in ("docx", "pdf", "xlsx") or b.state != Bulletin.State.READY:
        raise NotFound("未找到该文件（格式应为 docx、pdf 或 xlsx）")
    return bulletin_file_response(request, b, fmt, current_user(request))
