"""统计考核 API (/api/stats) — 领导看板: the data of /stats/ as JSON (``stats.dashboard.build``).

Same scope rule as the page: ``unit`` must be in the reader's statistics scope (404 otherwise,
and for users who read no statistics); the period defaults to this month to date."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from xinfang.api.auth import current_user
from xinfang.api.errors import READ_ERRORS, ErrorOut, NotFound
from xinfang.core.errors import DomainError
from xinfang.stats import dashboard as D
from xinfang.stats import policy
from xinfang.stats.dashboard_views import read_period

router = Router(tags=["统计考核"])


class DashboardQuery(Schema):
    unit: int | None = Field(
        None, ge=1, le=2**62, description="统计单位（含下级）；默认本人统计范围"
    )
    start: str = Field("", max_length=10, description="开始日期 YYYY-MM-DD（默认本月1日）")
    end: str = Field("", max_length=10, description="结束日期 YYYY-MM-DD（默认今天）")


@router.get(
    "/dashboard",
    response={200: dict[str, Any], **READ_ERRORS, 400: ErrorOut},
    summary="领导看板数据",
    operation_id="stats_dashboard",
    description="与 /stats/ 页面相同的数字：主要数字（本期、同比、环比、年内累计）、"
    "在办/超期/积案、按期办结率与满意率、近12个月和本月逐日走势、"
    "按渠道/形式/内容分类/属地构成、热点表、"
    "超期/督办/领导批示清单（仅您可见的事项）。每个数字附 url：其背后的事项清单。",
)
def dashboard(request: HttpRequest, params: Query[DashboardQuery]) -> Any:
    user = current_user(request)
    if not policy.may_read_stats(user):
        raise NotFound("无统计查看权限")
    try:
        unit = policy.scope_unit(user, params.unit)
    except Http404 as exc:
        raise NotFound("单位不存在或不在您的统计范围内") from exc
    today = timezone.localdate()
    period, error = read_period({"start": params.start, "end": params.end}, today)
    if error:
        raise DomainError(error, field="start")
    return D.build(user, unit, period, today)
