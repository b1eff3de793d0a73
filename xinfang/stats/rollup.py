"""Keeping the rollups: per-case refresh on every case event, and the consistency check.

``refresh(case_id)`` runs inside the transaction that wrote the event: it recomputes the case's
cells (``rules.contributions``), compares them with the cells stored on its ``CaseFact`` and
adds the difference to the day and month rollups with ``INSERT … ON CONFLICT DO UPDATE SET
n = n + excluded.n`` (atomic on SQLite and PostgreSQL, so concurrent cases adding to the same
cell never lose an update). The fact row is locked first (``SELECT … FOR UPDATE``), so two
transactions refreshing one case apply their differences one after the other; cells are
updated in sorted key order, so two cases never wait on each other's cells in opposite orders.

``check()`` recomputes every cell from the cases, their events and deadlines (in batches),
compares with the stored rollups (day and month tables) and with each case's stored cells, and
reports every difference; ``repair=True`` writes the recomputed values. ``rebuild()`` is the
same from empty (after a bulk load that bypassed the events).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from xinfang.stats import rules
from xinfang.stats.models import (
    HANDLING_DIMS,
    HANDLING_MEASURES,
    INTAKE_CATEGORY_DIMS,
    INTAKE_CATEGORY_PLACE_DIMS,
    INTAKE_DIMS,
    INTAKE_HOTSPOT_DIMS,
    INTAKE_MEASURES,
    INTAKE_PLACE_DIMS,
    INTAKE_TOTAL_DIMS,
    CaseFact,
    HandlingDay,
    HandlingMonth,
    HandlingSpot,
    HandlingTotalDay,
    HandlingTotalMonth,
    IntakeCategoryDay,
    IntakeCategoryMonth,
    IntakeCategoryPlaceDay,
    IntakeCategoryPlaceMonth,
    IntakeDay,
    IntakeHotspotDay,
    IntakeHotspotMonth,
    IntakeMonth,
    IntakePlaceDay,
    IntakePlaceMonth,
    IntakeTotalDay,
    IntakeTotalMonth,
)

# Table code → (day model, month model, dimensions, measures). ``i`` and ``h`` are the cells the
# rules compute (stored on each CaseFact); the others are their projections without the
# many-valued dimensions (place, category), kept in the same transaction, read by the usual sums
# — ``icl`` with the category coarsened to its first level (``DERIVED_DIMS``).
TABLES: dict[str, tuple[type[Any], type[Any], tuple[str, ...], tuple[str, ...]]] = {
    rules.INTAKE: (IntakeDay, IntakeMonth, INTAKE_DIMS, INTAKE_MEASURES),
    rules.HANDLING: (HandlingDay, HandlingMonth, HANDLING_DIMS, HANDLING_MEASURES),
    "it": (IntakeTotalDay, IntakeTotalMonth, INTAKE_TOTAL_DIMS, INTAKE_MEASURES),
    "ic": (IntakeCategoryDay, IntakeCategoryMonth, INTAKE_CATEGORY_DIMS, INTAKE_MEASURES),
    "ip": (IntakePlaceDay, IntakePlaceMonth, INTAKE_PLACE_DIMS, INTAKE_MEASURES),
    "icp": (
        IntakeCategoryPlaceDay,
        IntakeCategoryPlaceMonth,
        INTAKE_CATEGORY_PLACE_DIMS,
        INTAKE_MEASURES,
    ),
    "icl": (IntakeHotspotDay, IntakeHotspotMonth, INTAKE_HOTSPOT_DIMS, INTAKE_MEASURES),
    "ht": (HandlingTotalDay, HandlingTotalMonth, ("unit_id",), HANDLING_MEASURES),
}
FACT_TABLES = (rules.INTAKE, rules.HANDLING)
PROJECTIONS: dict[str, tuple[str, ...]] = {
    rules.INTAKE: ("it", "ic", "ip", "icp", "icl"),
    rules.HANDLING: ("ht",),
}
# A projection's dimension computed from a source dimension: the first-level category of the
# cell's category, by the category tree when the cell is added (``rules.CategoryMap.l1``).
# Moving a second-level category under another first-level one changes the stored rows from
# the next full ``stats_check --repair`` (the check reports the difference until then).
DERIVED_DIMS = {"category_l1": "category_id"}
# set-based projection (``project_all``) from a smaller table holding the same dimensions
_PROJECT_FROM = {"icl": "icp"}
_BOOL_DIMS = frozenset({"repeat", "skip"})


def _positions(source: str, target: str) -> list[tuple[int, bool]]:
    """For each dimension of ``target``: its position among ``source``'s and whether it is
    derived (``DERIVED_DIMS``)."""
    src = TABLES[source][2]
    return [(src.index(DERIVED_DIMS.get(d, d)), d in DERIVED_DIMS) for d in TABLES[target][2]]


def expand(cells: rules.Cells) -> rules.Cells:
    """The rules' cells plus their projections (summed)."""
    out: rules.Cells = {k: list(v) for k, v in cells.items()}
    categories: rules.CategoryMap | None = None
    for key, values in cells.items():
        for target in PROJECTIONS.get(key[0], ()):
            parts = []
            for i, derived in _positions(key[0], target):
                value = key[2 + i]
                if derived:
                    if categories is None:
                        categories = rules.reference_maps()[0]
                    value = categories.l1(int(value))
                parts.append(value)
            acc = out.setdefault((target, key[1], *parts), [0] * len(values))
            for i, v in enumerate(values):
                acc[i] += v
    return out


def l1_case_sql(column: str, l1s: Mapping[int, int]) -> str:
    """SQL of the first-level category of ``column`` (a cell's category id): a ``CASE`` with
    one branch per first-level category of ``l1s`` (``rules.CategoryMap.l1s``; ids are
    integers from the database), 0 for none."""
    return map_case_sql(column, l1s)


def map_case_sql(column: str, groups: Mapping[int, int], otherwise: str = "0") -> str:
    """SQL mapping the integer ``column`` to its group: a ``CASE`` with one branch per group
    of ``groups`` (id → group id; integers from the database, written as literals),
    ``otherwise`` (SQL) for an id in no group."""
    members: dict[int, list[int]] = defaultdict(list)
    for pk, group in groups.items():
        members[group].append(pk)
    if not members:
        return otherwise
    whens = " ".join(
        f"WHEN {column} IN ({', '.join(str(int(i)) for i in sorted(ids))}) THEN {int(group)}"
        for group, ids in sorted(members.items())
    )
    return f"CASE {whens} ELSE {otherwise} END"


def project_all() -> None:
    """Rebuild every projection table from its source table with one INSERT … SELECT … GROUP BY
    each (set-based; after a bulk build of the ``i``/``h`` tables). Projections listed after
    a smaller table holding their dimensions are summed from it (``_PROJECT_FROM``)."""
    qn = connection.ops.quote_name
    l1s = rules.CategoryMap().l1s
    with transaction.atomic(), connection.cursor() as cursor:
        for fact_table, targets in PROJECTIONS.items():
            for target in targets:
                source = _PROJECT_FROM.get(target, fact_table)
                for grain in (0, 1):
                    src_model: Any = TABLES[source][grain]
                    tgt_model: Any = TABLES[target][grain]
                    time_col = "day" if grain == 0 else "month"
                    dims = TABLES[target][2]
                    measures = TABLES[target][3]
                    tgt_model.objects.all().delete()
                    exprs = [qn(time_col)] + [
                        l1_case_sql(qn(DERIVED_DIMS[d]), l1s) if d in DERIVED_DIMS else qn(d)
                        for d in dims
                    ]
                    keys = ", ".join(exprs)
                    sums = ", ".join(f"SUM({qn(m)})" for m in measures)
                    cols = ", ".join(qn(c) for c in (time_col, *dims, *measures))
                    # in time order: a period's rows lie together on disk, as the
                    # incremental inserts (day after day) leave them
                    cursor.execute(
                        f"INSERT INTO {qn(tgt_model._meta.db_table)} ({cols}) "
                        f"SELECT {keys}, {sums} FROM {qn(src_model._meta.db_table)} "
                        f"GROUP BY {keys} ORDER BY {qn(time_col)}"
                    )


def _encode(cells: rules.Cells) -> list[list[Any]]:
    return [[*key, *values] for key, values in sorted(cells.items(), key=_sort_key)]


def _decode(stored: Iterable[Sequence[Any]]) -> rules.Cells:
    out: rules.Cells = {}
    for row in stored:
        table = row[0]
        width = 2 + len(TABLES[table][2])
        out[tuple(row[:width])] = list(row[width:])
    return out


def _sort_key(item: tuple[rules.Key, list[int]]) -> tuple[str, ...]:
    return tuple(str(v) for v in item[0])


def diff(old: rules.Cells, new: rules.Cells) -> rules.Cells:
    """new − old, per cell, dropping cells whose difference is all zero."""
    out: rules.Cells = {}
    for key in old.keys() | new.keys():
        a = old.get(key)
        b = new.get(key)
        width = len(a or b or [])
        delta = [(b[i] if b else 0) - (a[i] if a else 0) for i in range(width)]
        if any(delta):
            out[key] = delta
    return out


# --- applying differences ----------------------------------------------------------------


def _month(day: str) -> str:
    return day[:8] + "01"


def _upsert(
    model: type[Any],
    time_col: str,
    dims: tuple[str, ...],
    measures: tuple[str, ...],
    rows: list[tuple[Any, ...]],
) -> None:
    """rows: (time, *dims, *measure deltas) — added to the stored cells."""
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    cols = [time_col, *dims, *measures]
    quoted = [connection.ops.quote_name(c) for c in cols]
    conflict = ", ".join(connection.ops.quote_name(c) for c in (time_col, *dims))
    sets = ", ".join(
        f"{connection.ops.quote_name(m)} = {table}.{connection.ops.quote_name(m)} + "
        f"excluded.{connection.ops.quote_name(m)}"
        for m in measures
    )
    one = "(" + ", ".join(["%s"] * len(cols)) + ")"
    sql = (
        f"INSERT INTO {table} ({', '.join(quoted)}) VALUES {', '.join([one] * len(rows))} "
        f"ON CONFLICT ({conflict}) DO UPDATE SET {sets}"
    )
    params: list[Any] = [v for row in rows for v in row]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def apply(delta: rules.Cells) -> None:
    """Add ``delta`` (the rules' cells) and its projections to the day and month rollups
    (sorted: a fixed lock order)."""
    delta = {k: v for k, v in expand(delta).items() if any(v)}
    by_table: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for key, values in sorted(delta.items(), key=_sort_key):
        by_table[key[0]].append((key[1], *key[2:], *values))
    for table, rows in sorted(by_table.items()):
        day_model, month_model, dims, measures = TABLES[table]
        converted = [(_bool_dims(table, row)) for row in rows]
        _upsert(day_model, "day", dims, measures, converted)
        months: dict[tuple[Any, ...], list[int]] = {}
        for row in converted:
            mkey = (_month(row[0]), *row[1 : 1 + len(dims)])
            acc = months.setdefault(mkey, [0] * len(measures))
            for i, v in enumerate(row[1 + len(dims) :]):
                acc[i] += v
        _upsert(
            month_model,
            "month",
            dims,
            measures,
            [(*k, *v) for k, v in sorted(months.items(), key=lambda kv: tuple(map(str, kv[0])))],
        )


def _bool_dims(table: str, row: tuple[Any, ...]) -> tuple[Any, ...]:
    """(time, *dims, *measures) with the boolean dimensions as booleans (keys hold 0/1)."""
    dims = TABLES[table][2]
    if not _BOOL_DIMS & set(dims):
        return row
    return (
        row[0],
        *(
            bool(v) if d in _BOOL_DIMS else v
            for d, v in zip(dims, row[1 : 1 + len(dims)], strict=True)
        ),
        *row[1 + len(dims) :],
    )


# --- refresh on an event -------------------------------------------------------------------


def refresh(case_id: int) -> rules.Cells:
    """Recompute one case's cells and apply the difference. Returns the difference."""
    with transaction.atomic():
        now = timezone.now()
        CaseFact.objects.bulk_create(
            [CaseFact(case_id=case_id, cells=[], computed_at=now)], ignore_conflicts=True
        )
        fact = CaseFact.objects.select_for_update().get(case_id=case_id)
        new = compute([case_id]).get(case_id, {})
        delta = diff(_decode(fact.cells), new)
        if delta:
            apply(delta)
        sync_spots(case_id, new)
        fact.cells = _encode(new)
        fact.computed_at = now
        fact.rules_version = rules.RULES_VERSION
        fact.save(update_fields=["cells", "computed_at", "rules_version"])
        return delta


def register(case: Any, event: Any) -> rules.Cells:
    """The first cells of a case just registered (its ``register`` event): computed from the
    rows in hand — a new case has no other events and no acceptance or handling deadline —
    and its fact inserted (a second registration of one case is impossible: the insert would
    fail, as it should)."""
    categories, places = rules.reference_maps()
    row = rules.EventRow(event.kind, event.at, event.to_status, event.actor_unit_id, event.data)
    cells = rules.contributions(
        rules.CaseRow.of(case), [row], [], categories=categories, places=places
    )
    apply(cells)
    CaseFact.objects.create(
        case_id=case.pk,
        cells=_encode(cells),
        computed_at=timezone.now(),
        rules_version=rules.RULES_VERSION,
    )
    HandlingSpot.objects.bulk_create(_spot_rows(case.pk, spots_of(cells)))
    return cells


# --- the handling spots (which cases lie behind a unit's month) ---------------------------


SpotKey = tuple[int, int, dt.date]  # (unit, category, month)


def spots_of(cells: rules.Cells) -> dict[SpotKey, int]:
    """The ``HandlingSpot`` rows of a case with ``cells``: (unit, category, month) of each
    handling cell → the bits of its non-zero measures (OR over the month's cells)."""
    out: dict[SpotKey, int] = defaultdict(int)
    for key, values in cells.items():
        if key[0] != rules.HANDLING:
            continue
        spot = (int(key[2]), int(key[3]), dt.date.fromisoformat(_month(key[1])))
        out[spot] |= sum(1 << k for k, v in enumerate(values) if v)
    return dict(out)


def stored_spots(case_ids: Sequence[int]) -> dict[int, dict[SpotKey, int]]:
    out: dict[int, dict[SpotKey, int]] = defaultdict(dict)
    rows = HandlingSpot.objects.filter(case_id__in=case_ids).values_list(
        "case_id", "unit_id", "category_id", "month", "measures"
    )
    for pk, unit, category, month, bits in rows:
        out[pk][(unit, category, month)] = bits
    return out


def _spot_rows(case_id: int, spots: dict[SpotKey, int]) -> list[HandlingSpot]:
    return [
        HandlingSpot(case_id=case_id, unit_id=u, category_id=c, month=m, measures=bits)
        for (u, c, m), bits in sorted(spots.items())
    ]


def sync_spots(case_id: int, cells: rules.Cells) -> None:
    """Make the case's stored spots those of ``cells`` — compared with the rows stored, not
    with the old cells, so a damaged row is mended by the next refresh; rewritten only when
    they differ (most events change no spot)."""
    want = spots_of(cells)
    if stored_spots([case_id]).get(case_id, {}) != want:
        HandlingSpot.objects.filter(case_id=case_id).delete()
        HandlingSpot.objects.bulk_create(_spot_rows(case_id, want))


def compute(
    case_ids: Sequence[int],
    *,
    categories: rules.CategoryMap | None = None,
    places: rules.PlaceMap | None = None,
) -> dict[int, rules.Cells]:
    cases, events, deadlines = rules.load_inputs(case_ids)
    if categories is None or places is None:
        categories, places = rules.reference_maps()
    return {
        pk: rules.contributions(
            case, events[pk], deadlines[pk], categories=categories, places=places
        )
        for pk, case in cases.items()
    }


# --- the consistency check -----------------------------------------------------------------


@dataclass
class CheckReport:
    cases: int = 0
    facts_wrong: int = 0  # cases whose stored cells differ from the recomputation
    facts_missing: int = 0
    spots_wrong: int = 0  # cases whose HandlingSpot rows differ from their cells'
    open_wrong: int = 0  # deadlines whose OpenDeadline row differs (cases.openstate)
    open_counts_wrong: int = 0  # unit pairs whose OpenCaseCount differs (cases.openstate)
    cells_checked: int = 0
    differences: list[tuple[str, rules.Key, list[int], list[int]]] = field(default_factory=list)
    wrong_cases: list[int] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not (
            self.differences
            or self.facts_wrong
            or self.facts_missing
            or self.spots_wrong
            or self.open_wrong
            or self.open_counts_wrong
        )


def _case_batches(since: dt.date | None, batch: int) -> Iterator[list[int]]:
    from xinfang.cases.models import Case, CaseEvent

    if since is None:
        qs = Case.objects.order_by("pk").values_list("pk", flat=True)
        last = 0
        while True:
            ids = list(qs.filter(pk__gt=last)[:batch])
            if not ids:
                return
            yield ids
            last = ids[-1]
    else:
        start = timezone.make_aware(dt.datetime.combine(since, dt.time.min))
        # cells dated from ``since`` come from an event since then, or from the receipt (an
        # intake cell, or a 积案 entry BACKLOG_DAYS after it, which needs no event)
        received_from = start - dt.timedelta(days=rules.BACKLOG_DAYS + 1)
        ids = sorted(
            set(CaseEvent.objects.filter(at__gte=start).values_list("case_id", flat=True))
            | set(Case.objects.filter(received_at__gte=received_from).values_list("pk", flat=True))
        )
        for i in range(0, len(ids), batch):
            yield ids[i : i + batch]


def recompute(
    *,
    since: dt.date | None = None,
    batch: int = 2000,
    report: CheckReport | None = None,
    progress: Any = None,
) -> rules.Cells:
    """All cells (with day ≥ ``since``) recomputed from the cases, events and deadlines, summed.
    With ``report``: each case's recomputed cells are also compared with its stored fact."""
    categories = rules.CategoryMap()
    places = rules.PlaceMap()
    total: rules.Cells = {}
    floor = since.isoformat() if since else ""
    n = 0
    for ids in _case_batches(since, batch):
        computed = compute(ids, categories=categories, places=places)
        if report is not None:
            facts = dict(CaseFact.objects.filter(case_id__in=ids).values_list("case_id", "cells"))
            spots = stored_spots(ids)
            for pk, cells in computed.items():
                if pk not in facts:
                    report.facts_missing += bool(cells)
                elif _decode(facts[pk]) != cells:
                    report.facts_wrong += 1
                    report.wrong_cases.append(pk)
                elif spots.get(pk, {}) != spots_of(cells):
                    report.spots_wrong += 1  # refresh() mends them
                    report.wrong_cases.append(pk)
        for cells in computed.values():
            for key, values in cells.items():
                if key[1] < floor:
                    continue
                acc = total.setdefault(key, [0] * len(values))
                for i, v in enumerate(values):
                    acc[i] += v
        n += len(ids)
        if report is not None:
            report.cases = n
        if progress:
            progress(n)
    return {k: v for k, v in total.items() if any(v)}


def stored(model_time: str, *, since: dt.date | None = None) -> rules.Cells:
    """The stored cells of the day (``"day"``) or month (``"month"``) tables as keys like the
    recomputation's (month keys carry the month's first day)."""
    out: rules.Cells = {}
    for table, (day_model, month_model, dims, measures) in TABLES.items():
        model = day_model if model_time == "day" else month_model
        qs = model.objects.all()
        if since is not None:
            floor = since if model_time == "day" else since.replace(day=1)
            qs = qs.filter(**{f"{model_time}__gte": floor})
        for row in qs.values_list(model_time, *dims, *measures).iterator(chunk_size=5000):
            values = [int(v) for v in row[1 + len(dims) :]]
            if not any(values):
                continue
            key = (table, row[0].isoformat(), *(_key_part(v) for v in row[1 : 1 + len(dims)]))
            out[key] = values
    return out


def _key_part(value: Any) -> Any:
    return int(value) if isinstance(value, bool) else value


def months_of(day_cells: rules.Cells) -> rules.Cells:
    out: rules.Cells = {}
    for key, values in day_cells.items():
        mkey = (key[0], _month(key[1]), *key[2:])
        acc = out.setdefault(mkey, [0] * len(values))
        for i, v in enumerate(values):
            acc[i] += v
    return {k: v for k, v in out.items() if any(v)}


def check(
    *, since: dt.date | None = None, repair: bool = False, progress: Any = None
) -> CheckReport:
    """Recompute and compare. With ``since``: the cases with an event or a receipt on or after
    that day, and the cells dated from that day (month cells only when ``since`` is a 1st).
    ``repair``: without ``since`` the rollups are rebuilt from scratch; with it, the cases
    whose stored cells are wrong are refreshed. The tables of ``cases.openstate`` (the open
    obligation deadlines, the open-case counts) are always compared whole, and rebuilt on
    ``repair``."""
    import time

    started = time.perf_counter()
    report = CheckReport()
    total = _nonzero(expand(recompute(since=since, report=report, progress=progress)))
    _compare(report, "day", total, stored("day", since=since))
    if since is None or since.day == 1:
        _compare(report, "month", months_of(total), stored("month", since=since))
    from xinfang.cases import openstate

    report.open_wrong = len(openstate.check())
    report.open_counts_wrong = len(openstate.check_counts())
    if repair and (report.open_wrong or report.open_counts_wrong):
        openstate.rebuild()
    if repair and not report.ok:
        if since is None:
            rebuild(progress=progress)
        else:
            for pk in report.wrong_cases:
                refresh(pk)
            # cells wrong with every fact right (a damaged row): add what is missing
            again = CheckReport()
            total = _nonzero(expand(recompute(since=since, report=again)))
            _compare(again, "day", total, stored("day", since=since))
            if since.day == 1:
                _compare(again, "month", months_of(total), stored("month", since=since))
            _fix_cells(again.differences)
    report.seconds = time.perf_counter() - started
    return report


def _nonzero(cells: rules.Cells) -> rules.Cells:
    return {k: v for k, v in cells.items() if any(v)}


def _fix_cells(differences: list[tuple[str, rules.Key, list[int], list[int]]]) -> None:
    """Add expected − actual to each wrong cell, in its own table (day or month) only."""
    groups: dict[tuple[str, str], list[tuple[Any, ...]]] = defaultdict(list)
    for what, key, expected, actual in differences:
        delta = [e - a for e, a in zip(expected, actual, strict=True)]
        groups[(what, key[0])].append(_bool_dims(key[0], (key[1], *key[2:], *delta)))
    for (what, table), rows in sorted(groups.items()):
        day_model, month_model, dims, measures = TABLES[table]
        _upsert(day_model if what == "day" else month_model, what, dims, measures, rows)


def _compare(report: CheckReport, what: str, expected: rules.Cells, actual: rules.Cells) -> None:
    report.cells_checked += len(expected.keys() | actual.keys())
    for key in sorted(expected.keys() | actual.keys(), key=lambda k: tuple(map(str, k))):
        a = actual.get(key)
        e = expected.get(key)
        if a != e:
            width = len(a or e or [])
            report.differences.append((what, key, e or [0] * width, a or [0] * width))


def clear(*, facts: bool = True) -> None:
    """Empty every rollup table and (``facts``) the per-case facts."""
    for day_model, month_model, _, _ in TABLES.values():
        day_model.objects.all().delete()
        month_model.objects.all().delete()
    if facts:
        HandlingSpot.objects.all().delete()
        CaseFact.objects.all().delete()


def rebuild(*, batch: int = 2000, progress: Any = None) -> int:
    """Empty the facts and rollups and build them again from the cases, batch by batch (after
    a bulk load that bypassed the events, or to repair). One transaction; returns cases read."""
    from xinfang.cases.models import Case

    categories = rules.CategoryMap()
    places = rules.PlaceMap()
    n = 0
    with transaction.atomic():
        clear()
        now = timezone.now()
        last = 0
        while True:
            ids = list(
                Case.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch]
            )
            if not ids:
                break
            last = ids[-1]
            computed = compute(ids, categories=categories, places=places)
            CaseFact.objects.bulk_create(
                [
                    CaseFact(
                        case_id=pk,
                        cells=_encode(cells),
                        computed_at=now,
                        rules_version=rules.RULES_VERSION,
                    )
                    for pk, cells in computed.items()
                ]
            )
            HandlingSpot.objects.bulk_create(
                [row for pk, cells in computed.items() for row in _spot_rows(pk, spots_of(cells))]
            )
            total: rules.Cells = {}
            for cells in computed.values():
                for key, values in cells.items():
                    acc = total.setdefault(key, [0] * len(values))
                    for j, v in enumerate(values):
                        acc[j] += v
            for part in _chunks(total, 500):
                apply(part)
            n += len(ids)
            if progress:
                progress(n)
    return n


def _chunks(cells: rules.Cells, size: int) -> Iterator[rules.Cells]:
    items = sorted(cells.items(), key=_sort_key)
    for i in range(0, len(items), size):
        yield dict(items[i : i + size])
