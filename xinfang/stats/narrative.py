"""The paragraphs a bulletin writes by hand, written from the rollups.

``visit_paragraph`` writes the 基本情况 paragraph of seed 004 (篇八) — "今年1至10月份，区信访办共
接待群众来访539批（次）、2534人（次），同比分别上升了7%和28%。其中：集体访93批（次）…" — every
number from ``query.intake`` with the rules of ``stats.rules``, every comparison worded by
``stats.compare``. A kind with none in both periods is left out; one with none now but some a
year ago says so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from xinfang.stats import rules
from xinfang.stats.compare import Change, phrase, phrase_pair
from xinfang.stats.periods import Period
from xinfang.stats.query import Filters, intake


@dataclass(frozen=True)
class VisitFigures:
    """批次/人次 of visits by kind, and the other channels' 件数, for one period."""

    visits: tuple[int, int]
    by_kind: dict[int, tuple[int, int]]
    channels: dict[str, int]  # channel group code → 批次 (件)


def visit_figures(period: Period, filters: Filters) -> VisitFigures:
    rows = intake(period, filters, by=["channel_group", "kind"])
    by_kind: dict[int, tuple[int, int]] = {k: (0, 0) for k in rules.Kind.LABELS}
    channels: dict[str, int] = {code: 0 for code in rules.CHANNEL_GROUPS}
    for r in rows:
        if r["channel_group"] == "visit":
            b, p = by_kind[r["kind"]]
            by_kind[r["kind"]] = (b + r["batches"], p + r["persons"])
        channels[r["channel_group"]] = channels.get(r["channel_group"], 0) + r["batches"]
    visits = (sum(b for b, _ in by_kind.values()), sum(p for _, p in by_kind.values()))
    return VisitFigures(visits, by_kind, channels)


def _bp(b: int, p: int) -> str:
    return f"{b}批（次）、{p}人（次）"


def visit_paragraph(
    period: Period,
    filters: Filters,
    *,
    subject: str = "区信访办",
    today: dt.date | None = None,
    basis: str = "同比",
) -> str:
    """The seed-004 paragraph for ``period`` (同比 against the same period last year; 环比
    against the previous period with ``basis="环比"``)."""
    other = period.same_last_year() if basis == "同比" else period.previous()
    now = visit_figures(period, filters)
    then = visit_figures(other, filters)
    vb, vp = now.visits
    pb, pp = then.visits
    head = f"{period.label(today)}，{subject}共接待群众来访{_bp(vb, vp)}"
    if vb or pb:
        head += "，" + phrase_pair(Change(vb, pb), Change(vp, pp), basis)
    head += "。"
    clauses = []
    for kind in (rules.Kind.COLLECTIVE, rules.Kind.GROUP, rules.Kind.INDIVIDUAL):
        label = rules.Kind.VISIT_LABELS[kind]
        (b, p), (b0, p0) = now.by_kind[kind], then.by_kind[kind]
        if not b and not b0:
            continue
        if not b:
            ago = "去年同期" if basis == "同比" else "上期"
            clauses.append(f"无{label}（{ago}{_bp(b0, p0)}）")
        elif kind == rules.Kind.INDIVIDUAL:
            clauses.append(f"{label}{p}人（次），{phrase(Change(p, p0), basis)}")
        else:
            clauses.append(
                f"{label}{_bp(b, p)}，{phrase_pair(Change(b, b0), Change(p, p0), basis)}"
            )
    body = ("其中：" + "；".join(clauses) + "。") if clauses and vb else ""
    tail = []
    words = {
        "phone": ("热线电话", "个"),
        "letter": ("来信", "件"),
        "online": ("网上信访", "件"),
        "email": ("电子邮件", "件"),
        "fax": ("传真", "件"),
        "from_above": ("上级交办", "件"),
    }
    for code, (label, unit) in words.items():
        n, n0 = now.channels.get(code, 0), then.channels.get(code, 0)
        if not n and not n0:
            continue
        tail.append(f"{label}{n}{unit}，{phrase(Change(n, n0), basis)}")
    end = ("；".join(tail) + "。") if tail else ""
    return head + body + end
