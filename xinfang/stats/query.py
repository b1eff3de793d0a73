"""Reading the rollups: sums over a period, filtered and grouped, and the cases behind a number.

Sums read the month table for the whole months of the period and the day table for the days
left at either end (``periods.split_months``), so a year costs 12 month reads, not 365 days.
Every figure can be traced: ``intake_cases`` returns the cases a filtered intake figure counts
(the same rule in SQL: its count equals the figure), ``cases_behind`` those behind any figure
(handling: the ``HandlingSpot`` index of the period's months, then the candidates' cells).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from django.db.models import F, Q, QuerySet, Sum
from django.utils import timezone

from xinfang.stats import rules
from xinfang.stats.models import HANDLING_MEASURES, INTAKE_MEASURES, HandlingTotalMonth
from xinfang.stats.periods import Period, month_end, split_months


@dataclass(frozen=True)
class Filters:
    """None = no restriction. ``units``: registering units (intake) or holding units
    (handling) — normally the subtree of the scope unit. ``categories``: second-level ids."""

    units: tuple[int, ...] | None = None
    places: tuple[int, ...] | None = None
    categories: tuple[int, ...] | None = None
    channels: tuple[str, ...] | None = None
    purposes: tuple[str, ...] | None = None
    kinds: tuple[int, ...] | None = None
    repeat: bool | None = None
    skip: bool | None = None

    def narrow(self, **kw: Any) -> Filters:
        return replace(self, **kw)

    def intake_q(self) -> Q:
        q = Q()
        if self.units is not None:
            q &= Q(office_id__in=self.units)
        if self.places is not None:
            q &= Q(place_id__in=self.places)
        if self.categories is not None:
            q &= Q(category_id__in=self.categories)
        if self.channels is not None:
            q &= Q(channel__in=self.channels)
        if self.purposes is not None:
            q &= Q(purpose__in=self.purposes)
        if self.kinds is not None:
            q &= Q(kind__in=self.kinds)
        if self.repeat is not None:
            q &= Q(repeat=self.repeat)
        if self.skip is not None:
            q &= Q(skip=self.skip)
        return q

    def handling_q(self) -> Q:
        q = Q()
        if self.units is not None:
            q &= Q(unit_id__in=self.units)
        if self.categories is not None:
            q &= Q(category_id__in=self.categories)
        return q


def _sum(
    day_model: Any,
    month_model: Any,
    measures: Sequence[str],
    period: Period,
    q: Q,
    by: Sequence[str],
    l1: bool = False,
    place_buckets: Mapping[int, int] | None = None,
) -> list[dict[str, Any]]:
    """``by``: stored columns (``_storage_by``), ``day``, ``month``. ``l1``: group by the
    first-level category in SQL (``_l1_expr``) instead of the stored second-level one — tens of
    groups a month instead of one per category × place × unit. ``place_buckets``: group by
    ``place_bucket`` (``_bucket_expr``) instead of ``place_id``."""
    derived: dict[str, tuple[str, Any]] = {}  # stored column → (alias, SQL expression)
    if l1:
        derived["category_id"] = ("category_l1", _l1_expr())
    if place_buckets is not None:
        derived["place_id"] = ("place_bucket", _bucket_expr(place_buckets))
    stored_by = [derived[b][0] if b in derived else b for b in by if b not in ("day", "month")]
    need_day = "day" in by
    need_month = "month" in by
    whole, ranges = split_months(period)
    if need_day:
        whole, ranges = [], [(period.start, period.end)]
    # (model, condition, time column, sign, rows inside the period): a range covering most of
    # its month is read as the month row minus the days outside it (month = the sum of its
    # days: rollup.check) — the month to date reads a few days' rows instead of weeks of them
    parts: list[tuple[Any, Q, str, int, bool]] = []
    if whole:
        parts.append((month_model, q & Q(month__in=whole), "month", 1, True))
    for lo, hi in ranges:
        first, last = lo.replace(day=1), month_end(lo)
        inside = (hi - lo).days + 1
        if need_day or (last - first).days + 1 - inside >= inside:
            parts.append((day_model, q & Q(day__gte=lo, day__lte=hi), "day", 1, True))
            continue
        parts.append((month_model, q & Q(month=first), "month", 1, False))
        for a, b in ((first, lo - dt.timedelta(days=1)), (hi + dt.timedelta(days=1), last)):
            if a <= b:
                parts.append((day_model, q & Q(day__gte=a, day__lte=b), "day", -1, False))
    acc: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0] * len(measures))
    direct: set[tuple[Any, ...]] = set()  # keys read from rows inside the period
    group_cols = list(stored_by)
    group_cols_time = need_day or need_month
    for model, cond, time_col, sign, inside in parts:
        cols = group_cols + ([time_col] if group_cols_time else [])
        qs = model.objects.filter(cond)
        if derived:
            qs = qs.annotate(**dict(derived.values()))
        sums = {f"s_{m}": Sum(m) for m in measures}
        rows: Iterable[Sequence[Any]]
        if cols:
            # tuples, not dicts: a hotspot read returns thousands of groups
            rows = qs.values(*cols).annotate(**sums).values_list(*cols, *sums)
        else:
            total = qs.aggregate(**sums)
            rows = [tuple(total[k] for k in sums)]
        width = len(group_cols)
        for row in rows:
            key = tuple(row[:width])
            if group_cols_time:
                t = row[width]
                if need_month:
                    t = t.replace(day=1)
                key = (*key, t)
            target = acc[key]
            for i, v in enumerate(row[len(cols) :]):
                target[i] += sign * int(v or 0)
            if inside:
                direct.add(key)
    names = group_cols + (["day" if need_day else "month"] if group_cols_time else [])
    out = []
    for key, values in acc.items():
        if not any(values) and key not in direct:
            continue  # a group of the month with nothing inside the period
        item: dict[str, Any] = dict(zip(names, key, strict=True))
        item.update(zip(measures, values, strict=True))
        out.append(item)
    return out


def _derive(
    rows: list[dict[str, Any]], by: Sequence[str], measures: Sequence[str]
) -> list[dict[str, Any]]:
    """Apply derived group-bys (channel_group, category_l1) and re-sum."""
    need_l1 = "category_l1" in by and bool(rows) and "category_l1" not in rows[0]
    if "channel_group" not in by and not need_l1:
        return rows  # grouped as asked in SQL (the icl projection, _l1_expr, place buckets)
    l1 = _category_l1_map() if "category_l1" in by else {}
    acc: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0] * len(measures))
    for row in rows:
        item = dict(row)
        if "channel_group" in by:
            item["channel_group"] = rules.CHANNEL_GROUP_OF.get(item.pop("channel", ""), "other")
        if "category_l1" in by and "category_l1" not in item:
            item["category_l1"] = l1.get(item.pop("category_id", 0) or 0, 0)
        key = tuple(item.get(b) for b in by)
        for i, m in enumerate(measures):
            acc[key][i] += item[m]
    return [
        {**dict(zip(by, key, strict=True)), **dict(zip(measures, values, strict=True))}
        for key, values in acc.items()
    ]


def _storage_by(by: Sequence[str]) -> list[str]:
    out = []
    for b in by:
        if b == "channel_group":
            out.append("channel")
        elif b == "category_l1":
            out.append("category_id")
        elif b == "place_bucket":
            out.append("place_id")
        else:
            out.append(b)
    return list(dict.fromkeys(out))


def _l1_expr() -> Any:
    """The first-level category of a rollup row's ``category_id`` (second level, or first when
    the case had only that; 0 = none), as SQL: the ``CASE`` over the category tree the ``icl``
    projection is written with (``rollup.l1_case_sql`` of ``_category_l1_map``) — evaluated per
    row without a lookup, where a correlated subquery cost a probe per row (≈ 0.15 s a month at
    10 M)."""
    from django.db import connection
    from django.db.models import IntegerField
    from django.db.models.expressions import RawSQL

    from xinfang.stats.rollup import l1_case_sql

    column = connection.ops.quote_name("category_id")
    return RawSQL(l1_case_sql(column, _category_l1_map()), (), output_field=IntegerField())


def _bucket_expr(buckets: Mapping[int, int]) -> Any:
    """The bucket of a rollup row's ``place_id`` (``buckets``: place id → bucket id), as SQL;
    a place in no bucket is its own id (0 = none)."""
    from django.db import connection
    from django.db.models import IntegerField
    from django.db.models.expressions import RawSQL

    from xinfang.stats.rollup import map_case_sql

    column = f"COALESCE({connection.ops.quote_name('place_id')}, 0)"
    sql = map_case_sql(column, buckets, otherwise=column)
    return RawSQL(sql, (), output_field=IntegerField())


def _category_l1_map() -> dict[int, int]:
    """Category id (level 1 or 2, as the cells hold them) → its first-level category: the map
    the ``icl`` projection is written with (``rules.CategoryMap.l1s``, cached per process)."""
    return rules.reference_maps()[0].l1s


def _source(candidates: Sequence[str], used: set[str]) -> tuple[Any, Any] | None:
    """The day and month models of the first table (rollup.TABLES) holding every dimension the
    query filters or groups on — a projection when it can, the full cube otherwise."""
    from xinfang.stats.rollup import TABLES

    for code in candidates:
        day_model, month_model, dims, _ = TABLES[code]
        if used <= set(dims):
            return day_model, month_model
    return None


_FILTER_COLUMNS = {
    "units": "office_id",
    "places": "place_id",
    "categories": "category_id",
    "channels": "channel",
    "purposes": "purpose",
    "kinds": "kind",
    "repeat": "repeat",
    "skip": "skip",
}


def _intake_used(filters: Filters, by: Sequence[str]) -> set[str]:
    used = {b for b in _storage_by(by) if b not in ("day", "month")}
    used |= {col for attr, col in _FILTER_COLUMNS.items() if getattr(filters, attr) is not None}
    return used


def intake(
    period: Period,
    filters: Filters = Filters(),
    by: Sequence[str] = (),
    place_buckets: Mapping[int, int] | None = None,
) -> list[dict[str, Any]]:
    """批次/人次 summed over ``period``, grouped by ``by`` (stored dims, ``day``, ``month``,
    ``channel_group``, ``category_l1``, ``place_bucket``). Rows: {dim: value, …, "batches": n,
    "persons": n}. By first-level category with the place (the hotspots) and no category
    filter: the ``icl`` projection, which stores the first level; otherwise the second level
    grouped in SQL. ``place_bucket`` (with ``place_buckets``: place id → bucket id) groups the
    places in SQL — a district's hundreds of places as its streets — and a place in no bucket
    stays its own id."""
    if ("place_bucket" in by) != (place_buckets is not None):
        raise ValueError("place_bucket and place_buckets go together")
    used = _intake_used(filters, by)
    storage = _storage_by(by)
    l1 = "category_l1" in by
    source = _source(("it", "ic", "ip"), used)
    if source is None and l1 and "category_id" not in by and filters.categories is None:
        source = _source(("icl",), used - {"category_id"} | {"category_l1"})
        if source is not None:
            storage = ["category_l1" if b == "category_id" else b for b in storage]
            l1 = False
    if source is None:
        source = _source(("icp", "i"), used)
    assert source is not None  # the full cube holds every dimension
    day_model, month_model = source
    rows = _sum(
        day_model,
        month_model,
        INTAKE_MEASURES,
        period,
        filters.intake_q(),
        storage,
        l1=l1,
        place_buckets=place_buckets,
    )
    rows = _derive(rows, by, INTAKE_MEASURES)
    return [r for r in rows if r["batches"] or r["persons"] or not by]


def intake_total(period: Period, filters: Filters = Filters()) -> tuple[int, int]:
    rows = intake(period, filters)
    return (rows[0]["batches"], rows[0]["persons"]) if rows else (0, 0)


def handling(
    period: Period, filters: Filters = Filters(), by: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """The handling measures (``models.HANDLING_MEASURES``) summed over ``period``."""
    used = {b for b in _storage_by(by) if b not in ("day", "month")} | {"unit_id"}
    if filters.categories is not None:
        used.add("category_id")
    source = _source(("ht", "h"), used)
    assert source is not None  # the handling cube holds every dimension
    day_model, month_model = source
    rows = _sum(
        day_model,
        month_model,
        HANDLING_MEASURES,
        period,
        filters.handling_q(),
        _storage_by(by),
        l1="category_l1" in by,
    )
    return _derive(rows, by, HANDLING_MEASURES)


def handling_total(period: Period, filters: Filters = Filters()) -> dict[str, int]:
    rows = handling(period, filters)
    return {m: (rows[0][m] if rows else 0) for m in HANDLING_MEASURES}


def backlog_on(
    day: dt.date, filters: Filters = Filters(), by: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """积案 at the end of ``day``: entries minus exits up to that day (all time)."""
    first = HandlingTotalMonth.objects.order_by("month").values_list("month", flat=True).first()
    if first is None or first > day:
        return [] if by else [{"backlog": 0}]
    rows = handling(Period(first, day), filters, by)
    out = []
    for r in rows:
        item = {b: r[b] for b in by}
        item["backlog"] = r["backlog_in"] - r["backlog_out"]
        out.append(item)
    return out


# --- the cases behind a figure ---------------------------------------------------------------


def _day_bounds(period: Period) -> tuple[dt.datetime, dt.datetime]:
    start = timezone.make_aware(dt.datetime.combine(period.start, dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time.min))
    return start, end


def l2_category_members(l2_ids: Iterable[int]) -> list[int]:
    """Category ids counted under the cell ids ``l2_ids`` (``rules.CategoryMap``): a
    second-level id holds itself and its third level; a first-level id only the cases
    classified at the first level (its second levels are cells of their own)."""
    from xinfang.cases.models import Category

    ids = list(l2_ids)
    return list(
        Category.objects.filter(
            Q(pk__in=ids) | Q(parent_id__in=ids, level=3) | Q(parent__parent_id__in=ids, level=4)
        ).values_list("pk", flat=True)
    )


def intake_cases(period: Period, filters: Filters = Filters()) -> QuerySet[Any]:
    """The cases an intake figure with these filters counts (its ``count()`` is the 批次)."""
    from xinfang.cases.models import Case, Status

    start, end = _day_bounds(period)
    qs = Case.objects.exclude(status=Status.MERGED).filter(
        received_at__gte=start, received_at__lt=end
    )
    f = filters
    if f.units is not None:
        qs = qs.filter(office_unit_id__in=f.units)
    if f.channels is not None:
        qs = qs.filter(channel__in=f.channels)
    if f.purposes is not None:
        qs = qs.filter(purpose__in=f.purposes)
    if f.repeat is not None:
        qs = qs.filter(is_repeat=f.repeat)
    if f.skip is not None:
        qs = qs.filter(is_skip_level=f.skip)
    if f.kinds is not None:
        kq = Q()
        for k in f.kinds:
            if k == rules.Kind.INDIVIDUAL:
                kq |= Q(headcount__lt=rules.GROUP_MIN)
            elif k == rules.Kind.GROUP:
                kq |= Q(headcount__gte=rules.GROUP_MIN, headcount__lt=rules.COLLECTIVE_MIN)
            else:
                kq |= Q(headcount__gte=rules.COLLECTIVE_MIN)
        qs = qs.filter(kq)
    if f.categories is not None:
        cats = [c for c in f.categories if c]
        cq = Q(category_id__in=l2_category_members(cats)) if cats else Q(pk__in=[])
        if 0 in f.categories:
            cq |= Q(category__isnull=True)
        qs = qs.filter(cq)
    if f.places is not None:
        qs = qs.filter(pk__in=_place_case_ids(qs, f.places))
    return qs


def _place_case_ids(qs: QuerySet[Any], places: Sequence[int]) -> list[int]:
    """Place is resolved by the longest code prefix in Python (the rule of ``rules.PlaceMap``)."""
    rows = list(qs.values_list("pk", "place_code"))
    pm = rules.PlaceMap(code for _, code in rows)
    wanted = set(places)
    return [pk for pk, code in rows if pm.place(code) in wanted]


def cases_behind(
    period: Period, filters: Filters, table: str, measure: str, *, limit: int = 50_000
) -> list[int]:
    """Ids of the cases that contribute to ``measure`` of ``table`` (rules.INTAKE/HANDLING)
    in ``period`` under ``filters``, ascending, at most ``limit``. Handling: the
    ``HandlingSpot`` index — for the whole months of the period its rows with the measure's bit
    decide (one indexed read); for the days left at either end those rows are joined to the
    cells stored on their facts, which decide by day (``_cases_on_days``). Either way the cells
    the rollups were summed from, so the list agrees with the figure (``rollup.check`` proves
    them equal to a recomputation)."""
    if table == rules.INTAKE:
        return list(intake_cases(period, filters).values_list("pk", flat=True)[:limit])
    index = HANDLING_MEASURES.index(measure)
    whole, ranges = split_months(period)
    out = set(_spots(filters, index).filter(month__in=whole).values_list("case_id", flat=True))
    for lo, hi in ranges:
        out |= _cases_on_days(lo, hi, filters, index)
    return sorted(out)[:limit]


def _spots(filters: Filters, index: int) -> QuerySet[Any]:
    """``HandlingSpot`` rows with measure ``index`` non-zero, at the units and categories of
    ``filters``."""
    from xinfang.stats.models import HandlingSpot

    bit = 1 << index
    qs = HandlingSpot.objects.annotate(hit=F("measures").bitand(bit)).filter(hit=bit)
    if filters.units is not None:
        qs = qs.filter(unit_id__in=filters.units)
    if filters.categories is not None:
        qs = qs.filter(category_id__in=filters.categories)
    return qs


def _cases_on_days(lo: dt.date, hi: dt.date, filters: Filters, index: int) -> set[int]:
    """The cases with a handling cell dated ``lo``…``hi`` (one month) whose measure ``index`` is
    non-zero, at the units and categories of ``filters``: the month's spots with the measure's
    bit, joined to the cells on their facts (one statement; ``bulk.CellSQL``)."""
    from django.db import connection

    from xinfang.stats.bulk import CellSQL
    from xinfang.stats.models import HANDLING_DIMS, HandlingSpot

    sql = CellSQL.here()
    el = sql.el
    where = [
        "s.month = %s",
        f"(s.measures & {1 << index}) <> 0",
        f"{sql.tab} = %s",
        f"{el(1, 'text')} BETWEEN %s AND %s",
        f"{el(2 + len(HANDLING_DIMS) + index)} <> 0",
        f"{el(2)} = s.unit_id",
        f"{el(3)} = s.category_id",
    ]
    params: list[Any] = [
        lo.replace(day=1).isoformat(),
        rules.HANDLING,
        lo.isoformat(),
        hi.isoformat(),
    ]
    for column, ids in (("unit_id", filters.units), ("category_id", filters.categories)):
        if ids is not None:
            if not ids:
                return set()
            where.append(f"s.{column} IN ({', '.join(['%s'] * len(ids))})")
            params.extend(ids)
    statement = (
        f"SELECT DISTINCT s.case_id FROM {sql.source('f')} "
        f"JOIN {HandlingSpot._meta.db_table} s ON s.case_id = f.case_id "
        f"WHERE {' AND '.join(where)}"
    )
    with connection.cursor() as cur:
        cur.execute(statement, params)
        return {row[0] for row in cur.fetchall()}
