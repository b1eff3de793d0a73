"""The statistics filter (信访统计, 数字背后的事项, 统计表, XLSX exports, /api/stats): one parser of
the query string for pages, exports and the API, and ``figure_url`` — the link from any number
to the cases behind it (the other statistics pages build their links with it).

Query string (the figure contract)::

    table=i|h  measure=batches|persons|<handling measure>  start=YYYY-MM-DD  end=YYYY-MM-DD
    unit=<scope unit id>  channel=  channel_group=  kind=1|2|3  category=<L2 id, 0 未分类>
    category_l1=  place=<place unit id, exact; repeated = any of them>  purpose=
    repeat=1|0  skip=1|0
    office=<one registering unit>  hunit=<one handling unit>  by=  compare=yoy|mom|none

``unit`` is checked against the reader's scope by the caller (``policy.scope_unit``: 404);
``office``/``hunit`` must lie inside the scope unit's subtree (else 404 as well). Every other
bad value is a Chinese message in ``errors`` with the typed value kept in ``raw``.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus

from django.urls import get_script_prefix, get_urlconf, reverse

from xinfang.cases.models import Category, Channel, Purpose
from xinfang.stats import rules
from xinfang.stats.models import HANDLING_MEASURES, INTAKE_MEASURES
from xinfang.stats.periods import Period, _add_months, _month_end
from xinfang.stats.query import Filters

# 分组: (by value for query.intake, label)
GROUPS: dict[str, str] = {
    "channel_group": "渠道",
    "kind": "形式（个人/群体/集体）",
    "category_l1": "内容分类（一级）",
    "category_id": "内容分类（二级）",
    "place_id": "问题属地",
    "office_id": "登记单位",
    "purpose": "信访目的",
    "month": "月份",
    "day": "日",
}
COMPARES: dict[str, str] = {"yoy": "同比", "mom": "环比", "none": "不比较"}
MEASURE_LABELS: dict[str, str] = {
    "batches": "批次",
    "persons": "人次",
    "assigned": "交办转送",
    "assigned_repeat": "重复信访交办",
    "accept_done": "受理决定",
    "accept_timely": "及时受理",
    "accepted": "受理",
    "reply_done": "答复",
    "reply_timely": "按期答复",
    "evaluated": "参评",
    "satisfied": "满意",
    "unsatisfied": "不满意",
    "closed": "办结",
    "closed_once": "一次性化解",
    "backlog_in": "新增积案",
    "backlog_out": "化解积案",
}
DAY_CAP = 366
# Dimensions of intake cells only (handling cells carry unit and category).
INTAKE_ONLY = ("channel", "channel_group", "kind", "place", "purpose", "repeat", "skip", "office")
BAD_DATE = "请输入有效日期，格式如 2026-01-31"
# Parameters carried from a page to its figure links and exports (besides start/end/unit).
FILTER_KEYS = (
    "channel",
    "channel_group",
    "kind",
    "category",
    "category_l1",
    "place",
    "purpose",
    "repeat",
    "skip",
    "office",
    "hunit",
)


def figure_url(**params: Any) -> str:
    """``/stats/cases/?…`` for a figure: pass ``table``, ``measure``, ``start``, ``end``
    (dates or ISO strings), ``unit`` and any filter of the contract (bools → 1/0; None and
    "" are left out)."""
    return _cases_path(get_script_prefix(), get_urlconf()) + "?" + encode(params)


@functools.lru_cache(maxsize=16)
def _cases_path(prefix: str, urlconf: Any) -> str:
    """``reverse("stats_cases")`` once per script prefix and URLconf (a page writes hundreds
    of figure links)."""
    return reverse("stats_cases", urlconf=urlconf)


# what quote_plus leaves as it is (letters, digits, "_.-~"): parameter names, measures, codes
_PLAIN = re.compile(r"[A-Za-z0-9_.~-]*\Z")


def encode(params: Mapping[str, Any]) -> str:
    """A query string, as ``urllib.parse.urlencode`` writes it; a list is written as the
    parameter repeated. Integers and dates need no quoting — a dashboard writes hundreds of
    links, each with its place ids — so only text with characters to escape goes through
    ``quote_plus``."""
    parts: list[str] = []
    for key, value in params.items():
        name = key if _PLAIN.match(key) else quote_plus(key)
        for v in value if isinstance(value, list | tuple) else [value]:
            if v is None or v == "":
                continue
            if isinstance(v, bool):
                text = str(int(v))
            elif isinstance(v, int):
                text = str(v)
            elif isinstance(v, dt.date):
                text = v.isoformat()
            else:
                text = str(v)
                if not _PLAIN.match(text):
                    text = quote_plus(text)
            parts.append(f"{name}={text}")
    return "&".join(parts)


def quick_periods(today: dt.date) -> list[tuple[str, Period]]:
    """本月/上月/本季度/今年/去年 (the quick picks of the filter form)."""
    y, m = _add_months(today.year, today.month, -1)
    q = (today.month - 1) // 3 + 1
    return [
        ("本月", Period.month(today.year, today.month)),
        ("上月", Period.month(y, m)),
        ("本季度", Period.quarter(today.year, q)),
        ("今年", Period(dt.date(today.year, 1, 1), _month_end(today.year, today.month), "ytd")),
        ("去年", Period.year(today.year - 1)),
    ]


@dataclass
class FigureParams:
    """The parsed query string. ``errors``: field → Chinese message; ``raw``: what was typed."""

    raw: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    period: Period | None = None
    table: str = rules.INTAKE
    measure: str = "batches"
    by: str = "channel_group"
    compare: str = "yoy"
    channel: str = ""
    channel_group: str = ""
    kind: int | None = None
    category: int | None = None
    category_l1: int | None = None
    place: int | None = None  # one place (the form's choice)
    places: tuple[int, ...] | None = None  # every place= value (links may repeat it)
    purpose: str = ""
    repeat: bool | None = None
    skip: bool | None = None
    office: int | None = None
    hunit: int | None = None

    @property
    def ok(self) -> bool:
        return not self.errors and self.period is not None

    @property
    def start_text(self) -> str:
        """The start date as typed (kept on errors), else the period's."""
        if self.raw.get("start") or self.period is None:
            return self.raw.get("start", "")
        return self.period.start.isoformat()

    @property
    def end_text(self) -> str:
        if self.raw.get("end") or self.period is None:
            return self.raw.get("end", "")
        return self.period.end.isoformat()

    def error_text(self) -> str:
        return "；".join(self.errors.values())

    # --- building the core's Filters --------------------------------------------------------

    def filters(self, subtree: tuple[int, ...]) -> Filters:
        """The core filters for a scope unit's subtree (``policy.subtree_ids``)."""
        units: tuple[int, ...] = subtree
        if self.table == rules.HANDLING and self.hunit is not None:
            units = (self.hunit,)
        elif self.table == rules.INTAKE and self.office is not None:
            units = (self.office,)
        channels: tuple[str, ...] | None = None
        if self.channel_group:
            channels = tuple(str(c) for c in rules.CHANNEL_GROUPS[self.channel_group][1])
        if self.channel:
            channels = (self.channel,) if channels is None or self.channel in channels else tuple()
        categories: tuple[int, ...] | None = None
        if self.category_l1 is not None:
            categories = tuple(l2_of_l1(self.category_l1))
        if self.category is not None:
            if categories is None or self.category in categories:
                categories = (self.category,)
            else:
                categories = tuple()
        return Filters(
            units=units,
            places=self.places,
            categories=categories,
            channels=channels,
            purposes=(self.purpose,) if self.purpose else None,
            kinds=(self.kind,) if self.kind is not None else None,
            repeat=self.repeat,
            skip=self.skip,
        )

    def filter_params(self) -> dict[str, Any]:
        """The filters as query parameters (for links and exports)."""
        out = {k: getattr(self, k) for k in FILTER_KEYS}
        out["place"] = list(self.places) if self.places else None
        return out

    def words(self, names: Mapping[str, str] | None = None) -> str:
        """The filters in words, for titles of exports: 统计期 2026年3月1日至31日；渠道 来访 …"""
        names = names or {}
        out = []
        if self.period is not None:
            out.append(f"统计期 {self.period.range_label()}")
        if self.channel_group:
            out.append(f"渠道 {rules.CHANNEL_GROUPS[self.channel_group][0]}")
        if self.channel:
            out.append(f"来源 {rules.CHANNEL_LABELS.get(self.channel, self.channel)}")
        if self.kind is not None:
            out.append(f"形式 {rules.Kind.LABELS[self.kind]}")
        for key, label in (
            ("category_l1", "一级分类"),
            ("category", "二级分类"),
            ("place", "问题属地"),
            ("office", "登记单位"),
            ("hunit", "承办单位"),
        ):
            value = getattr(self, key)
            if key == "place" and self.places and len(self.places) > 1:
                out.append(f"问题属地 {len(self.places)}处")
                continue
            if value is not None:
                out.append(f"{label} {names.get(key) or ('未分类' if value == 0 else value)}")
        if self.purpose:
            out.append(f"目的 {rules.PURPOSE_LABELS.get(self.purpose, self.purpose)}")
        if self.repeat is not None:
            out.append("重复信访" if self.repeat else "非重复信访")
        if self.skip is not None:
            out.append("越级" if self.skip else "非越级")
        return "；".join(out)


def l2_of_l1(l1: int) -> list[int]:
    """The second-level categories under a first-level one (and the first level itself, where
    cases classified only at level 1 are counted — ``rules.CategoryMap``)."""
    return [l1, *Category.objects.filter(parent_id=l1, level=2).values_list("pk", flat=True)]


def _int(raw: dict[str, str], errors: dict[str, str], key: str, label: str) -> int | None:
    text = raw.get(key, "").strip()
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        errors[key] = f"{label}应为数字编号"
        return None
    if value < 0 or value > 2**62:
        errors[key] = f"{label}编号无效"
        return None
    return value


def _flag(raw: dict[str, str], errors: dict[str, str], key: str, label: str) -> bool | None:
    text = raw.get(key, "").strip()
    if text in ("", "all"):
        return None
    if text in ("1", "0"):
        return text == "1"
    errors[key] = f"{label}只能为“是”或“否”"
    return None


def _date(raw: dict[str, str], errors: dict[str, str], key: str, label: str) -> dt.date | None:
    text = raw.get(key, "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        errors[key] = f"{label}：{BAD_DATE}"
        return None


def parse(
    query: Mapping[str, Any], *, today: dt.date, default_by: str = "channel_group"
) -> FigureParams:
    """Parse a query string (a QueryDict or a dict). Missing dates: this month."""
    raw = {
        k: str(query.get(k, "") or "")
        for k in (*FILTER_KEYS, "start", "end", "unit", "table", "measure", "by", "compare")
    }
    errors: dict[str, str] = {}
    p = FigureParams(raw=raw, errors=errors)

    start = _date(raw, errors, "start", "开始日期")
    end = _date(raw, errors, "end", "结束日期")
    if "start" not in errors and "end" not in errors:
        this_month = Period.month(today.year, today.month)
        start = start or (this_month.start if end is None else end.replace(day=1))
        end = end or (this_month.end if not raw["start"] else _month_end(start.year, start.month))
        if end < start:
            errors["end"] = "结束日期不能早于开始日期"
        elif start.year < 2000 or end.year > 2100:
            errors["start"] = "统计期应在2000年至2100年之间"
        else:
            p.period = Period.parse(start.isoformat(), end.isoformat())

    table = raw["table"] or rules.INTAKE
    if table not in (rules.INTAKE, rules.HANDLING):
        errors["table"] = "统计表只能为 i（收件）或 h（办理）"
    else:
        p.table = table
    measure = raw["measure"] or "batches"
    allowed = INTAKE_MEASURES if p.table == rules.INTAKE else HANDLING_MEASURES
    if measure not in allowed:
        errors["measure"] = f"指标“{measure}”不存在"
    else:
        p.measure = measure
    by = raw["by"] or default_by
    if by not in GROUPS:
        errors["by"] = "请选择有效的分组方式"
    else:
        p.by = by
    compare = raw["compare"] or "yoy"
    if compare not in COMPARES:
        errors["compare"] = "比较方式只能为同比、环比或不比较"
    else:
        p.compare = compare

    if raw["channel_group"]:
        if raw["channel_group"] in rules.CHANNEL_GROUPS:
            p.channel_group = raw["channel_group"]
        else:
            errors["channel_group"] = "请选择有效的渠道"
    if raw["channel"]:
        if raw["channel"] in Channel.values:
            p.channel = raw["channel"]
        else:
            errors["channel"] = "请选择有效的来源渠道"
    if raw["purpose"]:
        if raw["purpose"] in Purpose.values:
            p.purpose = raw["purpose"]
        else:
            errors["purpose"] = "请选择有效的信访目的"
    kind = _int(raw, errors, "kind", "形式")
    if kind is not None:
        if kind in rules.Kind.LABELS:
            p.kind = kind
        else:
            errors["kind"] = "形式只能为个人、群体或集体"
    p.category = _int(raw, errors, "category", "二级分类")
    p.category_l1 = _int(raw, errors, "category_l1", "一级分类")
    p.place = _int(raw, errors, "place", "问题属地")
    getlist = getattr(query, "getlist", None)
    many = [str(v) for v in getlist("place")] if getlist is not None else []
    if len(many) > 1:
        values = [_int({"place": v}, errors, "place", "问题属地") for v in many]
        p.places = tuple(v for v in values if v is not None)
        p.place = None
    elif p.place is not None:
        p.places = (p.place,)
    p.office = _int(raw, errors, "office", "登记单位")
    p.hunit = _int(raw, errors, "hunit", "承办单位")
    p.repeat = _flag(raw, errors, "repeat", "重复信访")
    p.skip = _flag(raw, errors, "skip", "越级")
    if p.table == rules.HANDLING:
        extra = [k for k in INTAKE_ONLY if raw.get(k)]
        if extra:
            errors[extra[0]] = "办理指标只能按统计单位、承办单位（hunit）和内容分类筛选"
    elif raw.get("hunit"):
        errors["hunit"] = "收件数字按登记单位（office）筛选，承办单位只用于办理指标"
    if p.ok and p.by == "day" and p.period is not None and p.period.days > DAY_CAP:
        errors["by"] = (
            f"按日分组最多{DAY_CAP}天（本统计期{p.period.days}天），请缩短统计期或改为按月分组"
        )
    return p
