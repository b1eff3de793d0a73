"""``GET /intel/hotspots``: the ranked hotspots, same function and rules as ``/intel/hotspots/``.

Office staff, leaders and supervisors only (``hotspots.may_view_hotspots``); anyone else gets a
404. Counts come from the cases the caller may see; 检举控告 cases are counted only (their text is
never clustered) and their summaries are masked in the member list.
"""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from xinfang.api.auth import current_user
from xinfang.api.errors import READ_ERRORS, NotFound
from xinfang.intel import hotspots as H

router = Router()
MEMBERS_MAX = 50


class HotspotQuery(Schema):
    days: int = Field(30, description="时间窗口（天）：7、30 或 90")
    end: dt.date | None = Field(None, description="截止日期（含，北京时间），默认今天")
    place: str = Field(
        "", max_length=20, description="问题属地：行政区划代码前缀，或属地名称中的文字"
    )
    category: int | None = Field(None, ge=1, le=2**62, description="内容分类 ID（含下级分类）")
    limit: int = Field(10, ge=1, le=100, description="返回前几个热点（1–100）")


class Member(Schema):
    id: int
    number: str
    summary: str


class HotspotOut(Schema):
    rank: int
    key: str
    label: str
    keywords: list[str]
    category: str
    places: list[tuple[str, int]]
    categories: list[tuple[str, int]]
    cases: int = Field(description="本期件数")
    persons: int = Field(description="本期人次")
    prev_cases: int
    prev_persons: int
    growth: float | None = Field(description="环比增长率；上期无时为 null")
    growth_text: str
    repeat: int
    skip_level: int
    collective: int
    score: float
    parts: dict[str, float] = Field(description="热度各项（已乘权重）")
    trend: list[tuple[str, int]]
    members: list[Member] = Field(description="本期成员事项（最新在前，最多50件）")


class HotspotReportOut(Schema):
    days: int
    start: dt.date
    end: dt.date
    prev_start: dt.date
    prev_end: dt.date
    total_cases: int
    total_persons: int
    prev_cases: int
    prev_persons: int
    confidential_cases: int = Field(description="检举控告件：只计数，不参与聚类")
    clustered_cases: int
    sentence: str
    weights: dict[str, float]
    hotspots: list[HotspotOut]


@router.get(
    "/intel/hotspots",
    response={200: HotspotReportOut, **READ_ERRORS},
    tags=["智能辅助"],
    summary="热点发现",
)
def hotspot_list(request: HttpRequest, q: Query[HotspotQuery]) -> HotspotReportOut:
    user = current_user(request)
    if not H.may_view_hotspots(user):
        raise NotFound()
    if q.days not in H.WINDOW_DAYS:
        raise HttpError(422, "时间窗口只能是7、30或90天")
    today = timezone.localdate()
    end = q.end or today
    if not H.EARLIEST_END <= end <= today + dt.timedelta(days=366):
        raise HttpError(422, f"截止日期应在{H.EARLIEST_END:%Y年}至明年之间")
    report = H.hotspots(user, end=end, days=q.days, place=q.place.strip(), category=q.category)
    shown = report.hotspots[: q.limit]
    rows = H.member_rows(user, [pk for h in shown for pk in h.member_ids[:MEMBERS_MAX]])
    w = report.window
    return HotspotReportOut(
        days=w.days,
        start=w.start,
        end=w.end,
        prev_start=w.prev_start,
        prev_end=w.prev_end,
        total_cases=report.total_cases,
        total_persons=report.total_persons,
        prev_cases=report.prev_cases,
        prev_persons=report.prev_persons,
        confidential_cases=report.confidential_cases,
        clustered_cases=report.clustered_cases,
        sentence=H.summary_sentence(report),
        weights=H.WEIGHTS,
        hotspots=[
            HotspotOut(
                **{f: getattr(h, f) for f in HotspotOut.model_fields if f != "members"},
                members=[
                    Member(id=pk, number=rows[pk]["number"], summary=rows[pk]["summary"])
                    for pk in h.member_ids[:MEMBERS_MAX]
                    if pk in rows
                ],
            )
            for h in shown
        ],
    )
