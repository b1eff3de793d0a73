"""Hotspots (热点发现): topic clusters of the cases a user may see, in a window of local dates,
ranked by a documented score, compared with the previous window of the same length.

Reads only — everything starts from ``cases_visible_to(user)``, so another unit's case, or a
检举控告 case the user is accused in, is neither counted nor shown. 检举控告 cases the user may see
are counted (件/人次 in the totals, ``confidential``), but their text never reaches the keyword
extraction: it is not even loaded, so it cannot appear in a cluster's keywords or samples.

Pipeline (docs/intel.md "热点发现"): cases of the current and the previous window → terms per case
(``topics.terms_of``, stored per case in ``CaseTopicTerms``) → keyword sets → connected
components inside each first-level category (``topics.cluster``) → per cluster: counts in each
window, places, categories, flags → ``score`` → ranked :class:`Hotspot` list. Bulletins and the
leader dashboard call :func:`hotspot_summary`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import time
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db.models.functions import Substr
from django.utils import timezone

from xinfang.intel import topics

WINDOW_DAYS = (7, 30, 90)
EARLIEST_END = dt.date(2000, 1, 1)  # windows end on or after this date (and within a year ahead)
MIN_CASES = 2  # a "hotspot" has at least this many cases in the current window
CACHE_SECONDS = 300
FETCH_CHUNK = 2000

# score = 件数 + α·(人次 − 件数) + β_r·重复 + β_s·越级 + β_c·集体 + γ·max(0, 件数 − 上期件数)
#         + δ·ln(1 + 点赞 + 点踩)             — the reasons are in docs/intel.md "热点发现".
WEIGHTS: dict[str, float] = {
    "persons": 0.2,
    "repeat": 0.5,
    "skip_level": 1.0,
    "collective": 2.0,
    "growth": 0.5,
    "reaction": 1.0,
}
UNKNOWN_PLACE = "属地不详"
UNCATEGORISED = "未分类"
Reaction = Mapping[Any, tuple[int, int]]  # case id → (likes, dislikes)


@dataclass(frozen=True)
class Window:
    """``days`` local dates ending on ``end`` (inclusive), and the previous window before it."""

    end: dt.date
    days: int

    @property
    def start(self) -> dt.date:
        return self.end - dt.timedelta(days=self.days - 1)

    @property
    def prev_start(self) -> dt.date:
        return self.start - dt.timedelta(days=self.days)

    @property
    def prev_end(self) -> dt.date:
        return self.start - dt.timedelta(days=1)

    def bounds(self) -> tuple[dt.datetime, dt.datetime, dt.datetime]:
        """(previous start, current start, end exclusive) as aware datetimes at local midnight."""
        tz = timezone.get_current_timezone()
        at = lambda d: dt.datetime.combine(d, dt.time.min, tz)  # noqa: E731
        return at(self.prev_start), at(self.start), at(self.end + dt.timedelta(days=1))

    @property
    def bucket_days(self) -> int:
        return {7: 1, 30: 3, 90: 7}.get(self.days, max(1, self.days // 10))


@dataclass
class Doc:
    """One case (or one real-data message) as the clustering sees it."""

    id: Any
    day: dt.date  # local date received
    block: Hashable = 0  # first-level category id: clusters never cross blocks
    category: str = UNCATEGORISED
    place: str = UNKNOWN_PLACE
    persons: int = 1
    repeat: bool = False
    skip_level: bool = False
    collective: bool = False
    confidential: bool = False
    terms: Counter[str] = field(default_factory=Counter)


@dataclass
class Hotspot:
    key: str
    label: str
    keywords: list[str]
    category: str
    categories: list[tuple[str, int]]
    places: list[tuple[str, int]]
    cases: int
    persons: int
    prev_cases: int
    prev_persons: int
    repeat: int
    skip_level: int
    collective: int
    likes: int
    dislikes: int
    score: float
    parts: dict[str, float]
    growth: float | None  # (cases − prev) / prev; None when the previous window had none
    growth_text: str
    trend: list[tuple[str, int]]  # (bucket start "MM-DD", cases) over the current window
    member_ids: list[Any]  # current window, newest first
    rank: int = 0


@dataclass
class HotspotReport:
    window: Window
    place: str
    category_id: int | None
    total_cases: int
    total_persons: int
    prev_cases: int
    prev_persons: int
    confidential_cases: int
    confidential_persons: int
    clustered_cases: int
    hotspots: list[Hotspot]
    elapsed_ms: float = 0.0
    cached: bool = False

    @property
    def growth_text(self) -> str:
        return growth_text(self.total_cases, self.prev_cases)


# --- wording ----------------------------------------------------------------------------------


def growth_text(current: int, previous: int) -> str:
    """环比 wording: 上期无 (nothing last window), 持平, 上升X% / 下降X% (whole per cent; one
    decimal when the whole number would read 0 although the counts differ)."""
    if previous == 0:
        return "上期无" if current else "持平"
    if current == previous:
        return "环比持平"
    pct = abs(current - previous) * 100 / previous
    shown = f"{pct:.0f}" if round(pct) >= 1 else f"{pct:.1f}"
    return f"环比{'上升' if current > previous else '下降'}{shown}%"


def summary_sentence(report: HotspotReport, limit: int = 3) -> str:
    """One sentence for bulletins, e.g.
    "近30天热点：东湖街道·物业费、上调（12件、35人次，环比上升50%）；…。"."""
    head = f"近{report.window.days}天"
    top = report.hotspots[:limit]
    if not top:
        return f"{head}未形成热点（共{report.total_cases}件、{report.total_persons}人次）。"
    items = [f"{h.label}（{h.cases}件、{h.persons}人次，{h.growth_text}）" for h in top]
    return f"{head}热点：{'；'.join(items)}。"


# --- ranking (pure) ---------------------------------------------------------------------------


def score_parts(
    *,
    cases: int,
    persons: int,
    prev_cases: int,
    repeat: int,
    skip_level: int,
    collective: int,
    likes: int = 0,
    dislikes: int = 0,
    weights: Mapping[str, float] = WEIGHTS,
) -> dict[str, float]:
    """The terms of the score, each already weighted (the page shows them on hover)."""
    return {
        "cases": float(cases),
        "persons": weights["persons"] * max(0, persons - cases),
        "repeat": weights["repeat"] * repeat,
        "skip_level": weights["skip_level"] * skip_level,
        "collective": weights["collective"] * collective,
        "growth": weights["growth"] * max(0, cases - prev_cases),
        "reaction": weights["reaction"] * math.log1p(max(0, likes) + max(0, dislikes)),
    }


def rank(
    docs: list[Doc],
    window: Window,
    reaction: Reaction | None = None,
    *,
    place_level_label: bool = True,
    threshold: float = topics.THRESHOLD,
    min_cases: int = MIN_CASES,
) -> list[Hotspot]:
    """Cluster ``docs`` (current and previous window; confidential ones are skipped) and rank the
    clusters with at least ``min_cases`` cases in the current window."""
    reaction = reaction or {}
    usable = [d for d in docs if not d.confidential and d.terms]
    idf = topics.idf_of(d.terms for d in usable)
    keysets = [topics.keyword_set(d.terms, idf) for d in usable]
    labels = topics.cluster(keysets, [d.block for d in usable], idf, threshold=threshold)
    members: dict[int, list[int]] = {}
    for i, label in enumerate(labels):
        members.setdefault(label, []).append(i)
    out: list[Hotspot] = []
    for idx in members.values():
        now = [usable[i] for i in idx if usable[i].day >= window.start]
        if len(now) < min_cases:
            continue
        before = [usable[i] for i in idx if usable[i].day < window.start]
        keywords = topics.top_terms([usable[i].terms for i in idx], idf)
        out.append(_hotspot(now, before, keywords, window, reaction, place_level_label))
    out.sort(key=lambda h: (-h.score, -h.cases, h.label, h.key))
    for position, h in enumerate(out, 1):
        h.rank = position
    return out


def _hotspot(
    now: list[Doc],
    before: list[Doc],
    keywords: list[str],
    window: Window,
    reaction: Reaction,
    place_level_label: bool,
) -> Hotspot:
    places = Counter(d.place for d in now).most_common()
    categories = Counter(d.category for d in now).most_common()
    likes = sum(reaction.get(d.id, (0, 0))[0] for d in now)
    dislikes = sum(reaction.get(d.id, (0, 0))[1] for d in now)
    cases, persons = len(now), sum(d.persons for d in now)
    prev_cases, prev_persons = len(before), sum(d.persons for d in before)
    repeat = sum(d.repeat for d in now)
    skip_level = sum(d.skip_level for d in now)
    collective = sum(d.collective for d in now)
    parts = score_parts(
        cases=cases,
        persons=persons,
        prev_cases=prev_cases,
        repeat=repeat,
        skip_level=skip_level,
        collective=collective,
        likes=likes,
        dislikes=dislikes,
    )
    topic = "、".join(keywords[:2]) or "（无关键词）"
    label = f"{places[0][0]}·{topic}" if place_level_label else topic
    step = window.bucket_days
    buckets = Counter((d.day - window.start).days // step for d in now)
    n_buckets = -(-window.days // step)
    trend = [
        ((window.start + dt.timedelta(days=b * step)).strftime("%m-%d"), buckets.get(b, 0))
        for b in range(n_buckets)
    ]
    newest = sorted(now, key=lambda d: (d.day, str(d.id)), reverse=True)
    return Hotspot(
        key=hashlib.sha1("|".join(sorted(keywords)).encode()).hexdigest()[:10],
        label=label,
        keywords=keywords,
        category=categories[0][0],
        categories=categories[:3],
        places=places[:3],
        cases=cases,
        persons=persons,
        prev_cases=prev_cases,
        prev_persons=prev_persons,
        repeat=repeat,
        skip_level=skip_level,
        collective=collective,
        likes=likes,
        dislikes=dislikes,
        score=round(sum(parts.values()), 2),
        parts={k: round(v, 2) for k, v in parts.items()},
        growth=None if prev_cases == 0 else (cases - prev_cases) / prev_cases,
        growth_text=growth_text(cases, prev_cases),
        trend=trend,
        member_ids=[d.id for d in newest],
    )


# --- from the database ------------------------------------------------------------------------


def may_view_hotspots(user: Any) -> bool:
    """Office staff (接待员、办案员), leaders, and supervisors (督查员 write the 通报);
    everyone else gets a 404."""
    from xinfang.org import roles as R
    from xinfang.org.policy import role_codes

    return bool(role_codes(user) & (R.OFFICE_STAFF | {R.LEADER, R.SUPERVISOR}))


def place_choices(user: Any) -> list[tuple[str, str]]:
    """(division code, name) of the units with a code in the user's reading scope."""
    from xinfang.org.models import Unit
    from xinfang.org.policy import visible_unit_ids
    from xinfang.org.roles import CASE_READERS

    ids = visible_unit_ids(user, CASE_READERS)
    units = Unit.objects.filter(pk__in=ids).exclude(division_code="").order_by("path")
    return [(u.division_code, u.short_name or u.name) for u in units]


def _place_namer(place_filter: str) -> Any:
    """place code → a place label: the street level (9 digits) unless the filter is already a
    street or below, then the community level (12) — a leader of the district compares streets."""
    from xinfang.org.models import Unit

    names = {
        code: short or name
        for code, short, name in Unit.objects.exclude(division_code="").values_list(
            "division_code", "short_name", "name"
        )
    }
    level = 12 if place_filter.isdigit() and len(place_filter) >= 9 else 9

    def namer(code: str, name: str) -> str:
        for cut in (level, 9, 6):
            hit = names.get(code[:cut]) if code and len(code) >= cut else None
            if hit:
                return hit
        return name or UNKNOWN_PLACE

    return namer


def _first_levels() -> dict[int, tuple[int, str]]:
    """category id → (first-level id, first-level name), from one query over the tree."""
    from xinfang.cases.models import Category

    rows = {
        pk: (parent, name)
        for pk, parent, name in Category.objects.values_list("id", "parent_id", "name")
    }
    out: dict[int, tuple[int, str]] = {}
    for pk in rows:
        top, seen = pk, 0
        while rows[top][0] is not None and seen < 10:
            top, seen = rows[top][0], seen + 1
        out[pk] = (top, rows[top][1])
    return out


def _compute_terms(ids: list[int]) -> dict[int, Counter[str]]:
    """Term counts of cases that have none stored (or an older ``scheme``): read the summary
    and the opening of the content only, compute, and store them for next time."""
    from xinfang.cases.models import Case
    from xinfang.intel.models import CaseTopicTerms

    out: dict[int, Counter[str]] = {}
    for i in range(0, len(ids), FETCH_CHUNK):
        chunk = ids[i : i + FETCH_CHUNK]
        texts = (
            Case.objects.filter(pk__in=chunk)
            .annotate(head=Substr("content", 1, topics.CONTENT_CHARS))
            .values_list("pk", "summary", "head")
        )
        rows = []
        for pk, summary, head in texts:
            out[pk] = topics.terms_of(summary, head or "")
            rows.append(CaseTopicTerms(case_id=pk, scheme=topics.SCHEME, terms=dict(out[pk])))
        CaseTopicTerms.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["case"], update_fields=["scheme", "terms"]
        )
    return out


def store_terms(case_ids: list[int]) -> None:
    """Terms of these cases, computed and stored in batches (检举控告 cases: nothing stored)."""
    from xinfang.cases.models import Case, Purpose

    ids = list(
        Case.objects.filter(pk__in=case_ids)
        .exclude(purpose=Purpose.ACCUSATION)
        .values_list("pk", flat=True)
    )
    _compute_terms(ids)


def store_registered_terms(sender: Any, case: Any, **kwargs: Any) -> None:
    """``case_registered`` receiver: a new case's terms, so hotspot queries never compute them
    on a page view (检举控告 cases: nothing is stored)."""
    if not case.is_confidential:
        _compute_terms([case.pk])


def load_docs(
    user: Any, window: Window, *, place: str = "", category: int | None = None
) -> list[Doc]:
    """The visible cases of both windows as :class:`Doc` (confidential ones without terms)."""
    from xinfang.cases.models import Purpose
    from xinfang.cases.policy import cases_visible_to
    from xinfang.cases.selectors import MAX_ID, category_subtree_ids

    prev_start, _, end = window.bounds()
    qs = cases_visible_to(user).filter(received_at__gte=prev_start, received_at__lt=end)
    if category is not None:
        if not 0 < category < MAX_ID:
            return []
        qs = qs.filter(category_id__in=category_subtree_ids(category))
    if place:
        qs = (
            qs.filter(place_code__startswith=place)
            if place.isdigit()
            else qs.filter(place_name__icontains=place)
        )
    fields = (
        "id",
        "received_at",
        "category_id",
        "place_code",
        "place_name",
        "headcount",
        "is_repeat",
        "is_skip_level",
        "is_collective",
        "purpose",
        "intel_topic_terms__scheme",
        "intel_topic_terms__terms",
    )
    rows = sorted(qs.order_by().values_list(*fields))  # by id: deterministic labels
    levels = _first_levels()
    namer = _place_namer(place)
    tz = timezone.get_current_timezone()
    # Stored counts of the current scheme; the missing ones are computed (and stored) now.
    # The text of 检举控告 cases is never read.
    missing = [r[0] for r in rows if r[9] != Purpose.ACCUSATION and r[10] != topics.SCHEME]
    fresh = _compute_terms(missing) if missing else {}
    docs = []
    for pk, received, cat, code, pname, heads, rep, skip, coll, purpose, scheme, stored in rows:
        counts: Counter[str] = Counter()
        if purpose != Purpose.ACCUSATION:
            counts = Counter(stored) if scheme == topics.SCHEME else fresh.get(pk, Counter())
        block, cat_name = levels.get(cat, (0, UNCATEGORISED)) if cat else (0, UNCATEGORISED)
        docs.append(
            Doc(
                id=pk,
                day=received.astimezone(tz).date(),
                block=block,
                category=cat_name,
                place=namer(code, pname),
                persons=max(1, heads),
                repeat=rep,
                skip_level=skip,
                collective=coll,
                confidential=purpose == Purpose.ACCUSATION,
                terms=counts,
            )
        )
    return docs


def scope_key(user: Any) -> str:
    """What the visible set of cases depends on (``cases_visible_to``): the units of the user's
    reading scope and the cases the user is accused in. Users with the same scope (a district's
    leaders and office staff) share one cached report; the member rows shown are fetched again
    per user (``member_rows``)."""
    from xinfang.cases.confidential import excluded_case_ids
    from xinfang.org.policy import visible_unit_ids
    from xinfang.org.roles import CASE_READERS

    units = sorted(visible_unit_ids(user, CASE_READERS))
    excluded = sorted(excluded_case_ids(user)) if units else []
    raw = ",".join(map(str, units)) + "|" + ",".join(map(str, excluded))
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def hotspots(
    user: Any,
    *,
    end: dt.date | None = None,
    days: int = 30,
    place: str = "",
    category: int | None = None,
    reaction: Reaction | None = None,
    use_cache: bool = True,
) -> HotspotReport:
    """The ranked hotspots of the cases ``user`` may see in the window of ``days`` (7/30/90)
    local dates ending on ``end`` (today by default). Cached per scope (``scope_key``) and
    parameters for ``CACHE_SECONDS`` (a reaction mapping bypasses the cache)."""
    if days not in WINDOW_DAYS:
        raise ValueError(f"窗口只能是{'/'.join(map(str, WINDOW_DAYS))}天")
    from xinfang.core.text import clean_line

    today = timezone.localdate()
    end = end or today
    if not EARLIEST_END <= end <= today + dt.timedelta(days=366):
        raise ValueError(f"截止日期应在{EARLIEST_END:%Y年}至明年之间")
    place = clean_line(place)[:20]
    window = Window(end, days)
    key = f"intel:hotspots:v2:{scope_key(user)}:{window.end}:{days}:{place}:{category}"
    if use_cache and reaction is None:
        hit = cache.get(key)
        if hit is not None:
            hit.cached = True
            return hit  # type: ignore[no-any-return]
    started = time.perf_counter()
    docs = load_docs(user, window, place=place, category=category)
    report = build_report(docs, window, reaction, place=place, category_id=category)
    report.elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
    if use_cache and reaction is None:
        cache.set(key, report, CACHE_SECONDS)
    return report


def build_report(
    docs: list[Doc],
    window: Window,
    reaction: Reaction | None = None,
    *,
    place: str = "",
    category_id: int | None = None,
) -> HotspotReport:
    current = [d for d in docs if d.day >= window.start]
    previous = [d for d in docs if d.day < window.start]
    secret = [d for d in current if d.confidential]
    ranked = rank(docs, window, reaction)
    return HotspotReport(
        window=window,
        place=place,
        category_id=category_id,
        total_cases=len(current),
        total_persons=sum(d.persons for d in current),
        prev_cases=len(previous),
        prev_persons=sum(d.persons for d in previous),
        confidential_cases=len(secret),
        confidential_persons=sum(d.persons for d in secret),
        clustered_cases=sum(h.cases for h in ranked),
        hotspots=ranked,
    )


def hotspot_summary(user: Any, *, limit: int = 3, **kwargs: Any) -> dict[str, Any]:
    """For bulletins and the leader dashboard: the top ``limit`` hotspots as plain data and the
    sentence (``summary_sentence``). ``kwargs`` as for :func:`hotspots`."""
    report = hotspots(user, **kwargs)
    return {
        "window": {
            "days": report.window.days,
            "start": report.window.start,
            "end": report.window.end,
            "prev_start": report.window.prev_start,
            "prev_end": report.window.prev_end,
        },
        "total_cases": report.total_cases,
        "total_persons": report.total_persons,
        "prev_cases": report.prev_cases,
        "growth_text": report.growth_text,
        "confidential_cases": report.confidential_cases,
        "hotspots": [
            {
                "rank": h.rank,
                "label": h.label,
                "keywords": h.keywords,
                "category": h.category,
                "places": h.places,
                "cases": h.cases,
                "persons": h.persons,
                "prev_cases": h.prev_cases,
                "growth": h.growth,
                "growth_text": h.growth_text,
                "score": h.score,
                "case_ids": h.member_ids,
            }
            for h in report.hotspots[:limit]
        ],
        "sentence": summary_sentence(report, limit),
    }


def member_rows(user: Any, ids: Iterable[Any]) -> dict[int, dict[str, Any]]:
    """Number and summary of member cases for display, fetched again through
    ``cases_visible_to`` (a cached report never outlives a visibility change)."""
    from xinfang.cases.confidential import PLACEHOLDER
    from xinfang.cases.models import Purpose
    from xinfang.cases.policy import cases_visible_to

    rows = (
        cases_visible_to(user).filter(pk__in=list(ids)).values("id", "number", "summary", "purpose")
    )
    return {
        r["id"]: {
            **r,
            "summary": PLACEHOLDER if r["purpose"] == Purpose.ACCUSATION else r["summary"],
        }
        for r in rows
    }
