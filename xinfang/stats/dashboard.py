"""领导看板: the data of /stats/ (and its print layout and /api/stats/dashboard), read from the
rollups (``stats.query``) with a fixed number of queries whatever the number of cases.

- Figures (批次/人次, 集体访, 越级, 重复, breakdowns, trend, hotspots) are rollup sums over the
  scope unit's subtree (registering office), each with the link to the cases behind it
  (``figure_link`` — the one place that writes the query string of ``stats_cases``).
- Live figures: 在办 (open cases) and 超期 (an open obligation deadline past due, as the case
  list's 超期 filter) of cases registered or handled in the subtree, counted over all cases;
  积案 from ``query.backlog_on``.
- Rates: 按期办结率 = reply_timely ÷ reply_done, 满意率 = satisfied ÷ evaluated ("—" on 0).
- Lists (超期, 督办, 领导批示) show only cases the reader may see (``cases_visible_to``);
  a 检举控告 case's summary and its instruction text are never shown.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse

from xinfang.cases import deadlines, openstate
from xinfang.cases.confidential import PLACEHOLDER
from xinfang.cases.models import OPEN_STATUSES, Case, Category
from xinfang.cases.policy import cases_visible_to
from xinfang.org.models import Unit
from xinfang.stats import query, rules
from xinfang.stats.compare import Change, phrase_pair, rate_text
from xinfang.stats.periods import Period, month_end
from xinfang.stats.policy import Subtree

# The optional filter parameters of ``stats_cases``, in the order they are written.
LINK_FILTERS = (
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
TOP = 10
HEAT_ROWS = 8
HEAT_COLS = 8


def figure_link(
    *, table: str, measure: str, period: Period, unit: int | Unit, **filters: Any
) -> str:
    """The URL of the cases behind a figure (page ``stats_cases``):
    ``?table=i|h&measure=…&start=YYYY-MM-DD&end=YYYY-MM-DD&unit=<scope id>`` then the filters
    of ``LINK_FILTERS`` that are not None: a list/tuple is written as the parameter repeated
    (``place=3&place=4`` = any of them), a bool as 1/0."""
    from xinfang.stats.forms import figure_url  # the one encoder of the link contract

    unknown = set(filters) - set(LINK_FILTERS)
    if unknown:
        raise TypeError(f"unknown figure filters: {sorted(unknown)}")
    return figure_url(
        table=table,
        measure=measure,
        start=period.start,
        end=period.end,
        unit=unit.pk if isinstance(unit, Unit) else unit,
        **{name: filters[name] for name in LINK_FILTERS if name in filters},
    )


# --- periods -------------------------------------------------------------------------------


def default_period(today: dt.date) -> Period:
    """本月 (to date)."""
    kind = "month" if today == month_end(today) else "custom"
    return Period(today.replace(day=1), today, kind)


def previous_of(period: Period) -> Period:
    """环比: the period before; a month to date is compared with the same days of last month."""
    a, b = period.start, period.end
    if period.kind == "custom" and a.day == 1 and (a.year, a.month) == (b.year, b.month):
        last = a - dt.timedelta(days=1)
        first = last.replace(day=1)
        return Period(first, min(last, first.replace(day=min(b.day, last.day))))
    return period.previous()


def ytd_of(period: Period) -> Period:
    """1月至本期末 (the year to the end of the period)."""
    end = period.end
    return Period(dt.date(end.year, 1, 1), end, "ytd" if end == month_end(end) else "custom")


def quick_periods(today: dt.date) -> list[tuple[str, Period]]:
    last = today.replace(day=1) - dt.timedelta(days=1)
    q = (today.month - 1) // 3 + 1
    return [
        ("本月", default_period(today)),
        ("上月", Period.month(last.year, last.month)),
        ("本季度", Period(Period.quarter(today.year, q).start, today)),
        ("今年", Period(dt.date(today.year, 1, 1), today)),
        ("去年", Period.year(today.year - 1)),
    ]


# --- small value helpers -----------------------------------------------------------------


def change_dict(cur: int, prev: int, basis: str) -> dict[str, Any]:
    c = Change(cur, prev)
    tone = {"上升": "up", "下降": "down", "持平": "flat"}.get(c.direction, "new")
    return {"basis": basis, "text": c.signed_text(), "tone": tone, "previous": prev}


def rate(num: int, den: int) -> str:
    return rate_text(num, den)


def _sum(rows: Iterable[dict[str, Any]], **cond: Any) -> tuple[int, int]:
    b = p = 0
    for r in rows:
        if all(r.get(k) == v for k, v in cond.items()):
            b += r["batches"]
            p += r["persons"]
    return b, p


class Scope(Subtree):
    """The scope unit's subtree (``policy.Subtree``: the whole tree — the district's leaders —
    has no unit filter on the rollups nor on the case tables, so the live counts read the
    status and open-deadline indexes instead of testing every case) and its figure links."""

    def link(self, period: Period, measure: str = "batches", table: str = "i", **kw: Any) -> str:
        return figure_link(table=table, measure=measure, period=period, unit=self.unit, **kw)


# --- the dashboard -----------------------------------------------------------------------

MIX_BY = ["channel_group", "kind", "repeat", "skip"]


def build(user: Any, unit: Unit, period: Period, today: dt.date) -> dict[str, Any]:
    """Everything the dashboard shows, as plain data (the API returns it as JSON)."""
    s = Scope(unit)
    f = s.filters
    yoy, prev, ytd = period.same_last_year(), previous_of(period), ytd_of(period)
    ytd_yoy = ytd.same_last_year()
    mix = {
        name: query.intake(p, f, by=MIX_BY)
        for name, p in (("cur", period), ("yoy", yoy), ("prev", prev), ("ytd", ytd))
    }
    mix["ytd_yoy"] = query.intake(ytd_yoy, f, by=MIX_BY)
    tiles = []
    for key, label, cond, link_kw in (
        ("all", "信访总量", {}, {}),
        (
            "collective",
            "集体访",
            {"channel_group": "visit", "kind": 3},
            {"channel_group": "visit", "kind": 3},
        ),
        ("skip", "越级", {"skip": 1}, {"skip": True}),
        ("repeat", "重复信访", {"repeat": 1}, {"repeat": True}),
    ):
        figs = {name: _sum(rows, **cond) for name, rows in mix.items()}
        for i, (measure, word) in enumerate((("batches", "批次"), ("persons", "人次"))):
            if key in ("skip", "repeat") and measure == "persons":
                continue
            tiles.append(
                {
                    "key": f"{key}_{measure}",
                    "label": f"{label}{word}",
                    "value": figs["cur"][i],
                    "url": s.link(period, measure, **link_kw),
                    "changes": [
                        change_dict(figs["cur"][i], figs["yoy"][i], "同比"),
                        change_dict(figs["cur"][i], figs["prev"][i], "环比"),
                    ],
                    "ytd": figs["ytd"][i],
                    "ytd_url": s.link(ytd, measure, **link_kw),
                    "ytd_change": change_dict(figs["ytd"][i], figs["ytd_yoy"][i], "同比"),
                }
            )
    cur_b, cur_p = _sum(mix["cur"])
    yoy_b, yoy_p = _sum(mix["yoy"])
    summary = f"{period.label(today)}，共收到信访事项{cur_b}批次、{cur_p}人次"
    if cur_b or yoy_b:
        summary += "，" + phrase_pair(Change(cur_b, yoy_b), Change(cur_p, yoy_p), "同比")
    summary += "。"

    handling = query.handling_total(period, f)
    year_start = dt.date(today.year, 1, 1)
    backlog_then = backlog_on(year_start - dt.timedelta(days=1), f)
    this_year = Period(year_start, today)
    flow = query.handling_total(this_year, f)
    # = query.backlog_on(today): the running sum to 31 Dec plus this year's entries and exits
    backlog_now = backlog_then + flow["backlog_in"] - flow["backlog_out"]
    open_count, overdue_count = open_and_overdue(s, today)
    case_list = reverse("case_list")
    overdue_url = case_list + "?" + urlencode({"deadline": "overdue", "unit": unit.pk})
    live = {
        "open": {"label": "在办事项", "value": open_count},
        "overdue": {"label": "超期事项", "value": overdue_count, "url": overdue_url},
        "backlog": {
            "label": "积案",
            "value": backlog_now,
            "since": backlog_then,
            "change": change_dict(backlog_now, backlog_then, "较年初"),
            "delta": backlog_now - backlog_then,
            "new": flow["backlog_in"],
            "new_url": s.link(this_year, "backlog_in", "h"),
            "solved": flow["backlog_out"],
            "solved_url": s.link(this_year, "backlog_out", "h"),
        },
    }
    rates = [
        _rate("按期办结率", "reply_timely", "reply_done", handling, s, period),
        _rate("满意率", "satisfied", "evaluated", handling, s, period),
    ]
    return {
        "unit": {"id": unit.pk, "name": unit.name},
        "today": today,
        "period": _period_dict(period, today),
        "compare": {
            "yoy": _period_dict(yoy, today),
            "prev": _period_dict(prev, today),
            "ytd": _period_dict(ytd, today),
        },
        "summary": summary,
        "tiles": tiles,
        "live": live,
        "rates": rates,
        "trend": trend(s, period),
        "daily": daily(s, period),
        "channels": _channels(s, period, mix["cur"]),
        "kinds": _kinds(s, period, mix["cur"]),
        **places_and_topics(s, period, prev),
        **lists(user, s, today),
    }


def open_and_overdue(s: Scope, today: dt.date) -> tuple[int, int]:
    """在办 and 超期 now, read live from the tables the triggers of ``cases.openstate`` keep:
    the open-case counts per unit pair and the open deadlines (a deadline passing is not an
    event, so no rollup holds it)."""
    overdue = deadlines.overdue_in(today, s.units)
    return openstate.open_cases(s.units), overdue.values("case_id").distinct().count()


def backlog_on(day: dt.date, f: query.Filters) -> int:
    """``query.backlog_on``, 0 for a day before the first month of the rollups (the core raises
    ValueError there: Period(first month, day) with day < first — reported to the lead)."""
    try:
        return int(query.backlog_on(day, f)[0]["backlog"])
    except ValueError:
        return 0


def _period_dict(p: Period, today: dt.date) -> dict[str, Any]:
    return {"start": p.start, "end": p.end, "label": p.label(today)}


def _rate(
    label: str, num: str, den: str, h: dict[str, int], s: Scope, period: Period
) -> dict[str, Any]:
    return {
        "label": label,
        "value": rate(h[num], h[den]),
        "num": h[num],
        "den": h[den],
        "num_url": s.link(period, num, "h"),
        "den_url": s.link(period, den, "h"),
        "formula": f"{num} ÷ {den}",
    }


def trend(s: Scope, period: Period) -> list[dict[str, Any]]:
    """批次/人次 of the 12 months ending with the period's last month (to its last day)."""
    end = period.end
    y, m = divmod(end.year * 12 + end.month - 1 - 11, 12)
    start = dt.date(y, m + 1, 1)
    rows = {r["month"]: r for r in query.intake(Period(start, end), s.filters, by=["month"])}
    out = []
    for i in range(12):
        y, m = divmod(start.year * 12 + start.month - 1 + i, 12)
        first = dt.date(y, m + 1, 1)
        p = Period(first, min(month_end(first), end))
        r = rows.get(first, {"batches": 0, "persons": 0})
        label = (
            f"{first.year}年{first.month}月" if first.month == 1 or i == 0 else f"{first.month}月"
        )
        out.append(
            {
                "label": label,
                "short": f"{first.year % 100}.{first.month}"
                if label != f"{first.month}月"
                else label,
                "start": p.start,
                "end": p.end,
                "batches": r["batches"],
                "persons": r["persons"],
                "url": s.link(p, "batches"),
                "persons_url": s.link(p, "persons"),
            }
        )
    return out


def daily(s: Scope, period: Period) -> list[dict[str, Any]]:
    """Each day of the month of the period's end, up to that day."""
    end = period.end
    p = Period(end.replace(day=1), end)
    rows = {r["day"]: r for r in query.intake(p, s.filters, by=["day"])}
    out = []
    day = p.start
    while day <= end:
        r = rows.get(day, {"batches": 0, "persons": 0})
        one = Period(day, day)
        out.append(
            {
                "label": f"{day.day}日",
                "day": day,
                "batches": r["batches"],
                "persons": r["persons"],
                "url": s.link(one, "batches"),
            }
        )
        day += dt.timedelta(days=1)
    return out


def _channels(s: Scope, period: Period, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for code, (label, _, _) in rules.CHANNEL_GROUPS.items():
        b, p = _sum(rows, channel_group=code)
        out.append(
            {
                "key": code,
                "label": label,
                "batches": b,
                "persons": p,
                "url": s.link(period, "batches", channel_group=code),
                "persons_url": s.link(period, "persons", channel_group=code),
            }
        )
    return out


def _kinds(s: Scope, period: Period, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for kind, label in rules.Kind.LABELS.items():
        b, p = _sum(rows, kind=kind)
        out.append(
            {
                "key": kind,
                "label": label,
                "batches": b,
                "persons": p,
                "url": s.link(period, "batches", kind=kind),
                "persons_url": s.link(period, "persons", kind=kind),
            }
        )
    return out


# --- places and topics (breakdowns and the hotspot heat table) ----------------------------


class PlaceBuckets:
    """The places of a scope as its breakdown shows them: each child unit's subtree is one
    bucket (a street and its communities under a district), the scope unit itself is 本级,
    a place outside the subtree is 辖区外 and none is 属地不明. ``ids`` is what the rollup
    reads group by in SQL (``query.intake(place_buckets=…)``: place id → bucket id, the
    child's id or the scope's); a place outside stays its own id, none is 0."""

    def __init__(self, s: Scope) -> None:
        self.scope = s.unit.pk
        children = list(
            Unit.objects.filter(parent=s.unit).order_by("path").values_list("pk", "path", "name")
        )
        self.labels: dict[int, str] = {pk: name for pk, _, name in children}
        self.ids: dict[int, int] = {}
        self.members: dict[int, list[int]] = defaultdict(list)  # bucket → its places (links)
        for pk, path in s.paths.items():
            bucket = next((c for c, cpath, _ in children if path.startswith(cpath)), self.scope)
            self.ids[pk] = bucket
            self.members[bucket].append(pk)
        self.labels[self.scope] = f"{s.unit.name}本级"

    def key(self, bucket: int) -> tuple[str, str]:
        """A bucket id of a read → (key, label) of the breakdown."""
        if bucket in self.labels and bucket != self.scope:
            return str(bucket), self.labels[bucket]
        if bucket == self.scope:
            return "self", self.labels[bucket]
        if bucket == 0:
            return "unknown", "属地不明"
        return "outside", "辖区外"


def _category_names(ids: Iterable[int]) -> dict[int, str]:
    wanted = [i for i in ids if i]
    names = dict(Category.objects.filter(pk__in=wanted).values_list("pk", "name"))
    names[0] = "未分类"
    return names


def _topic_kw(l1: int) -> dict[str, Any]:
    return {"category": 0} if l1 == 0 else {"category_l1": l1}


def places_and_topics(s: Scope, period: Period, prev: Period) -> dict[str, Any]:
    """Breakdowns by category L1 (top 10) and by place (the scope's child units), the heat table
    (top L1 × places: this period's 批次 and the change against the previous period) and the
    biggest rises. Two rollup reads (this period and the previous one, by L1 × place bucket,
    grouped in SQL: a few hundred rows, not one per place)."""
    buckets = PlaceBuckets(s)
    by = ["category_l1", "place_bucket"]
    now = query.intake(period, s.filters, by=by, place_buckets=buckets.ids)
    before = query.intake(prev, s.filters, by=by, place_buckets=buckets.ids)
    names = _category_names({r["category_l1"] for r in now + before})
    cell: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0, 0])  # b, p, prev b
    members: dict[str, set[int]] = defaultdict(set)
    labels: dict[str, str] = {}
    for rows, idx in ((now, 0), (before, 2)):
        for r in rows:
            bucket = r["place_bucket"]
            key, labels[key] = buckets.key(bucket)
            # the link's places: a bucket's whole subtree, the places seen outside, none
            members[key].update(buckets.members.get(bucket, [bucket]))
            c = cell[(r["category_l1"], key)]
            c[idx] += r["batches"]
            if idx == 0:
                c[1] += r["persons"]

    def place_kw(key: str) -> dict[str, Any]:
        return {"place": sorted(members[key])}

    topic_tot: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    place_tot: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for (l1, key), c in cell.items():
        for acc in (topic_tot[l1], place_tot[key]):
            for i in range(3):
                acc[i] += c[i]
    topics_sorted = sorted(
        (t for t in topic_tot.items() if t[1][0]), key=lambda t: (-t[1][0], names.get(t[0], ""))
    )
    places_sorted = sorted(
        (t for t in place_tot.items() if t[1][0]), key=lambda t: (-t[1][0], labels[t[0]])
    )
    topics = [
        {
            "key": l1,
            "label": names.get(l1, str(l1)),
            "batches": c[0],
            "persons": c[1],
            "url": s.link(period, "batches", **_topic_kw(l1)),
            "persons_url": s.link(period, "persons", **_topic_kw(l1)),
        }
        for l1, c in topics_sorted[:TOP]
    ]
    places = [
        {
            "key": key,
            "label": labels[key],
            "batches": c[0],
            "persons": c[1],
            "url": s.link(period, "batches", **place_kw(key)),
            "persons_url": s.link(period, "persons", **place_kw(key)),
        }
        for key, c in places_sorted
    ]
    heat_cols = [key for key, _ in places_sorted[:HEAT_COLS]]
    top = max((c[0] for (l1, key), c in cell.items() if key in heat_cols), default=0)
    heat_rows = []
    for l1, _ in topics_sorted[:HEAT_ROWS]:
        cells = []
        for key in heat_cols:
            b, _p, b0 = cell.get((l1, key), [0, 0, 0])
            cells.append(
                {
                    "batches": b,
                    "previous": b0,
                    "change": change_dict(b, b0, "环比"),
                    "level": 0 if not b or not top else min(4, 1 + (4 * b - 1) // top),
                    "url": s.link(period, "batches", **_topic_kw(l1), **place_kw(key)) if b else "",
                }
            )
        heat_rows.append({"label": names.get(l1, str(l1)), "cells": cells})
    rises: list[dict[str, Any]] = []
    for (l1, key), (b, _p, b0) in cell.items():
        if b > b0:
            rises.append(
                {
                    "topic": names.get(l1, str(l1)),
                    "place": labels[key],
                    "batches": b,
                    "previous": b0,
                    "delta": b - b0,
                    "change": change_dict(b, b0, "环比"),
                    "url": s.link(period, "batches", **_topic_kw(l1), **place_kw(key)),
                }
            )
    rises.sort(key=lambda r: (-r["delta"], -r["batches"], r["topic"], r["place"]))
    return {
        "topics": topics,
        "places": places,
        "heat": {"columns": [labels[k] for k in heat_cols], "rows": heat_rows},
        "rises": rises[:TOP],
    }


# --- lists: overdue, supervised, open instructions (visible cases only) --------------------


def _case_item(case: Case) -> dict[str, Any]:
    return {
        "id": case.pk,
        "number": case.number,
        "url": reverse("case_detail", args=[case.pk]),
        "summary": PLACEHOLDER if case.is_confidential else case.summary,
        "received": case.received_at.date(),
        "unit": (case.handling_unit or case.office_unit).name,
        "status": case.get_status_display(),
    }


def lists(user: Any, s: Scope, today: dt.date) -> dict[str, Any]:
    from xinfang.instructions.models import Instruction, InstructionState
    from xinfang.supervision.models import Stage, SupervisionStep

    visible = cases_visible_to(user).filter(s.case_q())
    overdue = []
    rows = deadlines.overdue_in(today, s.units)
    for case, due in deadlines.most_overdue(rows, visible, TOP):
        item = _case_item(case)
        item.update(due=due, days=(today - due).days)
        overdue.append(item)
    steps = (
        SupervisionStep.objects.filter(
            stage__in=[Stage.SUPERVISE, Stage.ESCALATE],
            case__status__in=OPEN_STATUSES,
            case__in=visible.values("pk"),
        )
        .select_related("case", "case__office_unit", "case__handling_unit", "unit")
        .order_by("-at", "-id")[: TOP * 5]
    )
    supervised: list[dict[str, Any]] = []
    seen: set[int] = set()
    for step in steps:
        if step.case_id in seen or len(supervised) >= TOP:
            continue
        seen.add(step.case_id)
        item = _case_item(step.case)
        item.update(
            stage=step.get_stage_display(),
            at=step.at,
            days=step.days_overdue,
            supervised_unit=step.unit.name if step.unit else "",
        )
        supervised.append(item)
    open_states = [InstructionState.OPEN, InstructionState.REPORTED]
    instr = (
        Instruction.objects.filter(
            state__in=open_states, case__in=visible.values("pk"), target_unit_id__in=s.ids
        )
        .select_related("case", "case__office_unit", "case__handling_unit", "target_unit", "leader")
        .order_by("due_on", "id")[:TOP]
    )
    instructions = []
    for ins in instr:
        item = _case_item(ins.case)
        text = PLACEHOLDER if ins.case.is_confidential else ins.text
        item.update(
            instruction_id=ins.pk,
            text=text if len(text) <= 60 else text[:59] + "…",
            leader=ins.leader.get_full_name() or ins.leader.get_username(),
            target=ins.target_unit.name,
            due=ins.due_on,
            state=ins.get_state_display(),
            days=ins.days_overdue(today),
        )
        instructions.append(item)
    return {
        "overdue_cases": overdue,
        "supervised": supervised,
        "instructions": instructions,
    }
