"""通报 (bulletins): the weekly and monthly documents that write themselves.

``build_figures`` takes a JSON snapshot of everything a bulletin says — the narrative paragraphs
(``narrative.visit_paragraph`` and a 环比 sentence), the tables (渠道, 形式, 内容分类, 问题属地,
承办单位 ranked, 热点), the overdue and supervised cases (live at issue time), the charts' data.
The renderers (``bulletin_render``) draw the HTML/PDF, DOCX and XLSX from that snapshot only, so
a stored bulletin never changes; ``issue_bulletin`` numbers and stores one, ``reissue`` writes a
new one that replaces it and records the difference (``figures_diff``).

Figures are read from the rollups (``stats.query``); case lists carry the number, the unit and
the due date, and for a 检举控告件 neither number nor summary (a bulletin is read by the whole
scope, some of whom may not see the case).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from xinfang.org.models import Unit
from xinfang.stats import rules
from xinfang.stats.compare import Change, phrase_pair, rate_pct
from xinfang.stats.models import Bulletin
from xinfang.stats.narrative import visit_paragraph
from xinfang.stats.periods import Period
from xinfang.stats.policy import Subtree
from xinfang.stats.query import Filters, handling, intake, intake_total

FIGURES_VERSION = 1
LIST_LIMIT = 30
TOP_CATEGORIES = 10
TOP_PLACES = 20
TOP_HOTSPOTS = 10
KIND_WORDS = {"weekly": "周", "monthly": "月"}


class BulletinError(Exception):
    """A bulletin that cannot be issued (Chinese message for people)."""


# --- periods -------------------------------------------------------------------------------


def period_for(kind: str, day: dt.date) -> Period:
    """The week (Monday–Sunday) or month containing ``day``."""
    if kind == Bulletin.Kind.WEEKLY:
        return Period.week_of(day)
    if kind == Bulletin.Kind.MONTHLY:
        return Period.month(day.year, day.month)
    raise BulletinError("通报类型应为周通报或月通报")


def latest_complete(kind: str, today: dt.date) -> Period:
    """The latest week or month that has ended before ``today``."""
    if kind == Bulletin.Kind.WEEKLY:
        return Period.week_of(today - dt.timedelta(days=7))
    first = today.replace(day=1) - dt.timedelta(days=1)
    return Period.month(first.year, first.month)


def _pct(num: int, den: int) -> float | None:
    """The rate as a ratio of the percentage rounded like every other page (compare.rate_pct):
    1/16 → 0.063, written "6.3%" in the documents and formatted 0.0% in the XLSX."""
    pct = rate_pct(num, den)
    return None if pct is None else float(pct / 100)


def _chg(cur: int, prev: int) -> str:
    return Change(cur, prev).signed_text() if (cur or prev) else "—"


# --- the snapshot --------------------------------------------------------------------------


def _names(model: Any, ids: set[int], field: str = "name") -> dict[int, str]:
    ids = {i for i in ids if i}
    return dict(model.objects.filter(pk__in=ids).values_list("pk", field)) if ids else {}


def _table(
    key: str, title: str, columns: list[tuple[str, str]], rows: list[dict[str, Any]], **kw: Any
) -> dict[str, Any]:
    """columns: (label, type) with type text | int | pct (a fraction) | chg (signed text)."""
    return {
        "key": key,
        "title": title,
        "columns": [{"label": label, "type": t} for label, t in columns],
        "rows": rows,
        "total": kw.get("total"),
        "note": kw.get("note", ""),
    }


def _by(period: Period, f: Filters, by: list[str]) -> dict[Any, tuple[int, int]]:
    out: dict[Any, tuple[int, int]] = {}
    for r in intake(period, f, by=by):
        key = r[by[0]] if len(by) == 1 else tuple(r[b] for b in by)
        out[key] = (r["batches"], r["persons"])
    return out


def _channel_table(now: dict[Any, Any], ly: dict[Any, Any], prev: dict[Any, Any]) -> Any:
    rows = []
    tot = [0, 0, 0, 0]
    for code, (label, _chans, _w) in rules.CHANNEL_GROUPS.items():
        b, p = now.get(code, (0, 0))
        b_ly, b_prev = ly.get(code, (0, 0))[0], prev.get(code, (0, 0))[0]
        tot = [tot[0] + b, tot[1] + p, tot[2] + b_ly, tot[3] + b_prev]
        rows.append({"key": code, "cells": [label, b, p, _chg(b, b_ly), _chg(b, b_prev)]})
    total = ["合计", tot[0], tot[1], _chg(tot[0], tot[2]), _chg(tot[0], tot[3])]
    cols = [("渠道", "text"), ("批次", "int"), ("人次", "int"), ("同比", "chg"), ("环比", "chg")]
    return _table("channel", "信访渠道", cols, rows, total=total)


def _kind_table(now: dict[Any, Any], ly: dict[Any, Any]) -> Any:
    rows = []
    for k, label in rules.Kind.LABELS.items():
        b, p = now.get(k, (0, 0))
        b0, p0 = ly.get(k, (0, 0))
        rows.append({"key": str(k), "cells": [label, b, p, _chg(b, b0), _chg(p, p0)]})
    cols = [
        ("形式", "text"),
        ("批次", "int"),
        ("人次", "int"),
        ("批次同比", "chg"),
        ("人次同比", "chg"),
    ]
    return _table(
        "kind", "信访形式（个人1人、群体2至4人、集体5人以上）", cols, rows, note="全部渠道"
    )


def _category_table(now: dict[Any, Any], ly: dict[Any, Any], total: int) -> Any:
    from xinfang.cases.models import Category

    names = _names(Category, set(now))
    ranked = sorted(now.items(), key=lambda kv: (-kv[1][0], -kv[1][1], kv[0]))[:TOP_CATEGORIES]
    rows = []
    for cid, (b, p) in ranked:
        rows.append(
            {
                "key": str(cid),
                "cells": [
                    names.get(cid, "未分类"),
                    b,
                    p,
                    _pct(b, total),
                    _chg(b, ly.get(cid, (0, 0))[0]),
                ],
            }
        )
    cols = [("内容分类", "text"), ("批次", "int"), ("人次", "int"), ("占比", "pct")]
    cols.append(("同比", "chg"))
    note = f"前{TOP_CATEGORIES}类" if len(now) > TOP_CATEGORIES else ""
    return _table("category", "内容分类（一级）", cols, rows, note=note)


def _place_table(now: dict[Any, Any], prev: dict[Any, Any]) -> Any:
    names = _names(Unit, set(now))
    ranked = sorted(now.items(), key=lambda kv: (-kv[1][0], -kv[1][1], kv[0]))[:TOP_PLACES]
    rows = [
        {
            "key": str(pid),
            "cells": [names.get(pid, "属地不明"), b, p, _chg(b, prev.get(pid, (0, 0))[0])],
        }
        for pid, (b, p) in ranked
    ]
    cols = [("问题属地", "text"), ("批次", "int"), ("人次", "int"), ("环比", "chg")]
    return _table("place", "问题属地", cols, rows)


def _unit_table(period: Period, f: Filters) -> Any:
    """承办单位 ranked by 按期办结率, then 办结 (formulas: docs/statistics.md 通报)."""
    rows_in = [r for r in handling(period, f, by=["unit_id"]) if any(r[m] for m in _H_SHOWN)]
    names = _names(Unit, {r["unit_id"] for r in rows_in})
    items = []
    for r in rows_in:
        items.append(
            [
                names.get(r["unit_id"], "—"),
                r["assigned"],
                _pct(r["accept_timely"], r["accept_done"]),
                _pct(r["reply_timely"], r["reply_done"]),
                _pct(r["satisfied"], r["evaluated"]),
                r["closed"],
                r["unit_id"],
            ]
        )
    items.sort(key=lambda c: (-(c[3] if c[3] is not None else -1), -c[5], -c[1], c[0]))
    rows = [{"key": str(c[6]), "cells": [i + 1, *c[:6]]} for i, c in enumerate(items)]
    cols = [
        ("名次", "int"),
        ("承办单位", "text"),
        ("交办转送", "int"),
        ("按期受理率", "pct"),
        ("按期办结率", "pct"),
        ("满意率", "pct"),
        ("办结", "int"),
    ]
    note = (
        "按期受理率＝按期受理÷受理环节办结；按期办结率＝按期答复÷答复；"
        "满意率＝满意（含基本满意）÷参评"
    )
    return _table("unit", "承办单位办理情况排名", cols, rows, note=note)


_H_SHOWN = ("assigned", "accept_done", "reply_done", "evaluated", "closed")


def _hotspots(period: Period, f: Filters) -> Any:
    from xinfang.cases.models import Category

    by = ["category_l1", "place_id"]
    now, prev = _by(period, f, by), _by(period.previous(), f, by)
    ranked = sorted(now.items(), key=lambda kv: (-kv[1][0], -kv[1][1], kv[0]))[:TOP_HOTSPOTS]
    cats = _names(Category, {k[0] for k, _ in ranked})
    places = _names(Unit, {k[1] for k, _ in ranked})
    rows = []
    for (cid, pid), (b, _p) in ranked:
        b0 = prev.get((cid, pid), (0, 0))[0]
        rows.append(
            {
                "key": f"{cid}-{pid}",
                "cells": [
                    cats.get(cid, "未分类"),
                    places.get(pid, "属地不明"),
                    b,
                    b0,
                    _chg(b, b0),
                ],
            }
        )
    cols = [
        ("内容分类", "text"),
        ("问题属地", "text"),
        ("本期批次", "int"),
        ("上期批次", "int"),
        ("环比", "chg"),
    ]
    return _table("hotspot", "热点问题（分类×属地）", cols, rows)


def _case_row(case: Any, unit_name: str, due: dt.date | None, today: dt.date, **kw: Any) -> Any:
    from xinfang.cases.confidential import PLACEHOLDER

    secret = case.is_confidential
    return {
        "number": "（检举控告件）" if secret else case.number,
        "unit": unit_name,
        "due": due.isoformat() if due else "",
        "days": (today - due).days if due else 0,
        "summary": PLACEHOLDER if secret else case.summary[:60],
        **kw,
    }


def overdue_cases(scope: Subtree, today: dt.date) -> tuple[list[dict[str, Any]], int]:
    """Open cases in the scope whose earliest open obligation deadline is past due (live)."""
    from xinfang.cases.deadlines import most_overdue, overdue_in

    overdue = overdue_in(today, scope.units)  # open obligations: open cases only
    rows = [
        _case_row(c, (c.handling_unit or c.office_unit).name, due, today)
        for c, due in most_overdue(overdue, None, LIST_LIMIT)
    ]
    return rows, overdue.values("case_id").distinct().count()


def supervised_cases(scope: Subtree, today: dt.date) -> tuple[list[dict[str, Any]], int]:
    """Open cases in the scope with a 督办 or 提级督办 step (the latest step of each)."""
    from xinfang.cases.models import OPEN_STATUSES, Case
    from xinfang.supervision.models import Stage, SupervisionStep

    open_cases = Case.objects.filter(scope.case_q(), status__in=OPEN_STATUSES)
    steps = (
        SupervisionStep.objects.filter(
            stage__in=(Stage.SUPERVISE, Stage.ESCALATE), case__in=open_cases.values("pk")
        )
        .select_related("case", "unit", "case__handling_unit", "case__office_unit")
        .order_by("-at", "-id")
    )
    seen: dict[int, Any] = {}
    for s in steps[: LIST_LIMIT * 10]:
        seen.setdefault(s.case_id, s)
    total = steps.values("case_id").distinct().count()
    labels = dict(Stage.choices)
    rows = []
    for s in list(seen.values())[:LIST_LIMIT]:
        c = s.case
        holder = s.unit or c.handling_unit or c.office_unit
        rows.append(_case_row(c, holder.name, s.due_on, today, stage=labels.get(s.stage, "")))
    return rows, total


def _huanbi_sentence(period: Period, f: Filters, word: str) -> str:
    b, p = intake_total(period, f)
    b0, p0 = intake_total(period.previous(), f)
    head = f"本{word}全部渠道共受理群众信访{b}件（批）、{p}人（次）"
    if not (b or b0):
        return head + "。"
    return head + "，" + phrase_pair(Change(b, b0), Change(p, p0), "环比") + "。"


def _trend(kind: str, period: Period, f: Filters) -> dict[str, Any]:
    if kind == Bulletin.Kind.MONTHLY:
        y, m = period.start.year, period.start.month
        months = []
        for i in range(11, -1, -1):
            idx = y * 12 + m - 1 - i
            months.append((idx // 12, idx % 12 + 1))
        span = Period(dt.date(*months[0], 1), period.end)
        got = {r["month"]: r for r in intake(span, f, by=["month"])}
        labels = [f"{mm}月" for _, mm in months]
        keys = [dt.date(yy, mm, 1) for yy, mm in months]
    else:
        span = Period(period.start - dt.timedelta(days=7 * 7), period.end)
        by_day = intake(span, f, by=["day"])
        keys = [period.start - dt.timedelta(days=7 * i) for i in range(7, -1, -1)]
        got = {}
        for r in by_day:
            wk = r["day"] - dt.timedelta(days=r["day"].weekday())
            acc = got.setdefault(wk, {"batches": 0, "persons": 0})
            acc["batches"] += r["batches"]
            acc["persons"] += r["persons"]
        labels = [f"{k.month}/{k.day}" for k in keys]
    return {
        "labels": labels,
        "batches": [got.get(k, {}).get("batches", 0) for k in keys],
        "persons": [got.get(k, {}).get("persons", 0) for k in keys],
    }


def build_figures(
    kind: str, unit: Unit, period: Period, *, today: dt.date | None = None
) -> dict[str, Any]:
    """Everything the bulletin of ``kind`` for ``unit``'s subtree over ``period`` says, as
    JSON-serialisable data (no case content)."""
    today = today or timezone.localdate()
    word = KIND_WORDS.get(kind)
    if word is None:
        raise BulletinError("通报类型应为周通报或月通报")
    scope = Subtree(unit)
    f = scope.filters
    ly, prev = period.same_last_year(), period.previous()
    paragraphs = [visit_paragraph(period, f, subject=unit.name, today=today)]
    if kind == Bulletin.Kind.MONTHLY and period.start.month > 1:
        ytd = Period.ytd(period.start.year, period.start.month)
        paragraphs.append(visit_paragraph(ytd, f, subject=unit.name, today=today))
    paragraphs.append(_huanbi_sentence(period, f, word))

    ch = [_by(p, f, ["channel_group"]) for p in (period, ly, prev)]
    kinds = [_by(p, f, ["kind"]) for p in (period, ly)]
    cats = [_by(p, f, ["category_l1"]) for p in (period, ly)]
    places = [_by(p, f, ["place_id"]) for p in (period, prev)]
    total_b, total_p = intake_total(period, f)
    overdue, overdue_total = overdue_cases(scope, today)
    supervised, supervised_total = supervised_cases(scope, today)
    tables = [
        _channel_table(*ch),
        _kind_table(*kinds),
        _category_table(cats[0], cats[1], total_b),
        _place_table(*places),
        _unit_table(period, f),
        _hotspots(period, f),
    ]
    return {
        "version": FIGURES_VERSION,
        "kind": kind,
        "kind_label": dict(Bulletin.Kind.choices)[kind],
        "unit": {"id": unit.pk, "name": unit.name},
        "period": {
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "label": period.label(today),
            "range": period.range_label(),
        },
        "title": f"{unit.name}信访工作{word}通报",
        "number": "",
        "as_of": today.isoformat(),
        "totals": {"batches": total_b, "persons": total_p},
        "paragraphs": paragraphs,
        "tables": tables,
        "overdue": {"rows": overdue, "total": overdue_total},
        "supervised": {"rows": supervised, "total": supervised_total},
        "trend": _trend(kind, period, f),
    }


# --- the difference between two snapshots --------------------------------------------------

# Live lists (overdue, supervised) are as of the issue day: not part of the difference.
DIFF_SKIP_TABLES: frozenset[str] = frozenset()


def figures_diff(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """Changes between two snapshots: [{"path": "内容分类（一级）/城乡建设/批次", "old", "new"}]
    for every table cell that differs (rows by key, columns by label), the totals, and a
    paragraph that reads differently."""
    out: list[dict[str, Any]] = []
    for key in ("batches", "persons"):
        a, b = old.get("totals", {}).get(key), new.get("totals", {}).get(key)
        if a != b:
            out.append(
                {"path": f"合计/{'批次' if key == 'batches' else '人次'}", "old": a, "new": b}
            )
    old_tables = {t["key"]: t for t in old.get("tables", [])}
    for t in new.get("tables", []):
        if t["key"] in DIFF_SKIP_TABLES:
            continue
        was = old_tables.get(t["key"], {"rows": [], "columns": t["columns"]})
        labels = [c["label"] for c in t["columns"]]
        old_rows = {r["key"]: r["cells"] for r in was["rows"]}
        new_rows = {r["key"]: r["cells"] for r in t["rows"]}
        for rk in list(new_rows) + [k for k in old_rows if k not in new_rows]:
            a_cells, b_cells = old_rows.get(rk), new_rows.get(rk)
            name = (b_cells or a_cells or [""])[0]
            for i, label in enumerate(labels[1:], start=1):
                if t["columns"][i]["type"] != "int":
                    continue  # text, or derived from the counts that are listed
                # a row on one side only left (or entered) a top-N list: not a zero
                a = a_cells[i] if a_cells else "未列入本表"
                b = b_cells[i] if b_cells else "未列入本表"
                if a != b:
                    out.append({"path": f"{t['title']}/{name}/{label}", "old": a, "new": b})
    old_p, new_p = old.get("paragraphs", []), new.get("paragraphs", [])
    for i, text in enumerate(new_p):
        before = old_p[i] if i < len(old_p) else ""
        if before != text:
            out.append({"path": f"正文第{i + 1}段", "old": before, "new": text})
    return out


# --- issuing -------------------------------------------------------------------------------


def _current(kind: str, unit: Unit, period: Period) -> Bulletin | None:
    return (
        Bulletin.objects.filter(
            kind=kind,
            unit=unit,
            period_start=period.start,
            period_end=period.end,
            state=Bulletin.State.READY,
        )
        .order_by("-id")
        .first()
    )


def _next_number(kind: str, unit: Unit, year: int) -> str:
    n = (
        Bulletin.objects.filter(
            kind=kind,
            unit=unit,
            state=Bulletin.State.READY,
            replaces__isnull=True,
            number__startswith=f"{year}年",
        ).count()
        + 1
    )
    return f"{year}年第{n}期"


Step = Callable[[str], None]


def _no_step(_text: str) -> None:
    return None


def _render_all(figures: dict[str, Any], step: Step = _no_step) -> dict[str, bytes]:
    from xinfang.stats import bulletin_render as R

    step("生成 Word 文档")
    docx = R.render_docx(figures)
    step("生成 PDF")
    pdf = R.render_pdf(figures)
    step("生成 Excel 表格")
    return {"docx": docx, "pdf": pdf, "xlsx": R.render_xlsx(figures)}


def issue_bulletin(
    kind: str,
    unit: Unit,
    period: Period,
    by: Any = None,
    *,
    reissue: bool = False,
    today: dt.date | None = None,
    into: Bulletin | None = None,
) -> Bulletin:
    """Issue the bulletin of ``kind`` × ``unit`` × ``period``, or return the one issued.

    Guard: kind weekly/monthly; the period a whole week/month. Effect: the figures, the three
    files and the number in one ready row, or a failed row with ``error`` (no number). The
    number (``2026年第N期``, gap-free per unit × kind × year) is taken under a lock on the unit
    row; rendering happens outside it and is redone if another issue took the number meanwhile.
    ``reissue=True``: a new row that replaces the current one, keeps its number and carries the
    difference (``diff``). ``into``: a pending request (``request_bulletin``) that becomes the
    ready or failed row, its ``step`` showing the progress meanwhile."""
    _check_period(kind, period)
    existing = _current(kind, unit, period)
    if existing is not None and not reissue:
        return _superseded(into, existing)
    step = _stepper(into)
    started = time.monotonic()
    try:
        step("汇总统计数据")
        figures = build_figures(kind, unit, period, today=today)
    except Exception as exc:  # a failed row says why; the sweep carries on
        return _failed(kind, unit, period, by, exc, started, into)
    for _attempt in range(3):
        old = _current(kind, unit, period)
        if old is not None and not reissue:
            return _superseded(into, old)
        number = old.number if old is not None else _next_number(kind, unit, period.start.year)
        figures["number"] = number
        try:
            files = _render_all(figures, step)
        except Exception as exc:
            return _failed(kind, unit, period, by, exc, started, into)
        with transaction.atomic():
            Unit.objects.select_for_update().filter(pk=unit.pk).first()
            now_current = _current(kind, unit, period)
            if (now_current.pk if now_current else None) != (old.pk if old else None):
                if not reissue and now_current is not None:
                    return _superseded(into, now_current)  # a concurrent issue won
                continue
            if old is None and _next_number(kind, unit, period.start.year) != number:
                continue
            return _save(
                into,
                kind=kind,
                unit=unit,
                period_start=period.start,
                period_end=period.end,
                number=number,
                state=Bulletin.State.READY,
                figures=figures,
                diff=figures_diff(old.figures, figures) if old is not None else [],
                replaces=old,
                docx=files["docx"],
                pdf=files["pdf"],
                xlsx=files["xlsx"],
                step="",
                seconds=round(time.monotonic() - started, 3),
                created_by=by,
            )
    raise BulletinError("通报编号冲突，请稍后重试")


def _check_period(kind: str, period: Period) -> None:
    if kind not in KIND_WORDS:
        raise BulletinError("通报类型应为周通报或月通报")
    if period != period_for(kind, period.start):
        raise BulletinError("周通报须为整周（周一至周日），月通报须为整月")


def _stepper(into: Bulletin | None) -> Step:
    """Progress of a pending request: each step written (and committed) as it starts."""
    if into is None:
        return _no_step

    def step(text: str) -> None:
        Bulletin.objects.filter(pk=into.pk, state=Bulletin.State.PENDING).update(step=text)

    return step


def _save(into: Bulletin | None, **fields: Any) -> Bulletin:
    """A new row, or the pending request ``into`` turned into it (``created_at`` then stays the
    time of the request)."""
    if into is None:
        return Bulletin.objects.create(created_at=timezone.now(), **fields)
    for name, value in fields.items():
        setattr(into, name, value)
    into.save()
    return into


def _superseded(into: Bulletin | None, current: Bulletin) -> Bulletin:
    """The period was issued by someone else while a request waited: the request ends failed
    with a pointer to the issued one; the caller gets the issued bulletin."""
    if into is not None:
        into.state = Bulletin.State.FAILED
        into.step = ""
        into.error = f"该期通报已生成（{current.number}），未重复生成"
        into.save(update_fields=["state", "step", "error"])
    return current


def _failed(
    kind: str,
    unit: Unit,
    period: Period,
    by: Any,
    exc: Exception,
    started: float,
    into: Bulletin | None = None,
) -> Bulletin:
    import logging

    logging.getLogger(__name__).exception("bulletin failed: %s %s %s", kind, unit.pk, period)
    return _save(
        into,
        kind=kind,
        unit=unit,
        period_start=period.start,
        period_end=period.end,
        state=Bulletin.State.FAILED,
        error=f"{type(exc).__name__}: {exc}"[:2000],
        step="",
        seconds=round(time.monotonic() - started, 3),
        created_by=by,
    )


# A request whose worker died stops blocking new ones after this long (it is then failed).
PENDING_TIMEOUT = dt.timedelta(minutes=30)


def request_bulletin(
    kind: str, unit: Unit, period: Period, by: Any, *, replacing: Bulletin | None = None
) -> Bulletin:
    """The on-demand path (pages and API): the issued bulletin when there is one (first
    editions), else the request already queued for the period, else a new pending request whose
    generation runs in the background (``tasks.generate_bulletin`` after the commit; the
    detail page shows its ``step``). ``replacing``: a reissue of that (current) bulletin.
    Double submits and two users at once get the same request (unit row lock; one pending row
    per unit × kind × period)."""
    from xinfang.stats.tasks import generate_bulletin

    _check_period(kind, period)
    if replacing is not None:
        if replacing.state != Bulletin.State.READY:
            raise BulletinError("只有已生成的通报可以重新生成")
        if replacing.reissues.filter(state=Bulletin.State.READY).exists():
            raise BulletinError("该通报已有更新的版本，请在最新版本上重新生成")
    with transaction.atomic():
        Unit.objects.select_for_update().filter(pk=unit.pk).first()
        if replacing is None:
            current = _current(kind, unit, period)
            if current is not None:
                return current
        pending = Bulletin.objects.filter(
            kind=kind, unit=unit, period_start=period.start, state=Bulletin.State.PENDING
        ).first()
        if pending is not None:
            if pending.created_at >= timezone.now() - PENDING_TIMEOUT:
                return pending
            pending.state = Bulletin.State.FAILED
            pending.error = "生成超时（后台任务未完成），已重新排队"
            pending.save(update_fields=["state", "error"])
        row = Bulletin.objects.create(
            kind=kind,
            unit=unit,
            period_start=period.start,
            period_end=period.end,
            state=Bulletin.State.PENDING,
            replaces=replacing,
            step="排队等待",
            created_by=by,
            created_at=timezone.now(),
        )
        transaction.on_commit(lambda: generate_bulletin.enqueue(row.pk))
    return row


def generate_pending(pk: int) -> Bulletin | None:
    """The background half of ``request_bulletin``: generate the pending request ``pk`` (gone
    or no longer pending: nothing to do)."""
    row = Bulletin.objects.select_related("unit", "created_by").filter(pk=pk).first()
    if row is None or row.state != Bulletin.State.PENDING:
        return row
    period = period_for(row.kind, row.period_start)
    return issue_bulletin(
        row.kind,
        row.unit,
        period,
        row.created_by,
        reissue=row.replaces_id is not None,
        into=row,
    )


def reissue(bulletin: Bulletin, by: Any = None) -> Bulletin:
    """A new bulletin over the same kind × unit × period from today's rollups, replacing
    ``bulletin`` (which must be the current one) and carrying the difference."""
    if bulletin.state != Bulletin.State.READY:
        raise BulletinError("只有已生成的通报可以重新生成")
    if bulletin.reissues.exists():
        raise BulletinError("该通报已有更新的版本，请在最新版本上重新生成")
    period = period_for(bulletin.kind, bulletin.period_start)
    return issue_bulletin(bulletin.kind, bulletin.unit, period, by, reissue=True)
