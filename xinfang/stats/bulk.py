"""The bulk rebuild of the statistics (``manage.py stats_rebuild --bulk``): after a migration of
historical cases, or a rules change, at millions of cases.

``rollup.rebuild()`` upserts every case's cells one batch at a time (hundreds of cases a second);
here the same ``rules.contributions`` decides every cell, but

1. ``compute_facts`` reads the cases, their counted events and their deadlines by case-id range
   with raw cursors (no ORM rows) and writes each case's ``CaseFact`` — the cells — with one
   ``executemany`` per batch;
2. ``rollups_from_facts`` then sums the facts into every day and month table with one
   ``INSERT … SELECT … GROUP BY`` each (PostgreSQL ``jsonb_array_elements``, SQLite
   ``json_each``), ``rollup.project_all`` derives the projections and ``spots_from_facts``
   the ``HandlingSpot`` index.

The counting rules stay in one place (``rules``); SQL only adds up what they decided.
``rollup.check()`` afterwards proves the result equal to the recomputation (the bench does).
``compute_facts`` on disjoint id ranges may run in parallel processes (``bench/bench_stats.py
--workers``); the sums come once, after all of them.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from xinfang.stats import rollup, rules
from xinfang.stats.models import HANDLING_DIMS, HANDLING_MEASURES, CaseFact, HandlingSpot

_CASE_COLS = ("id", *rules.CASE_FIELDS[1:])  # the columns rules.CaseRow takes, in its order


def _parse_dt(v: Any) -> Any:
    if v is None:
        return v
    if not isinstance(v, dt.datetime):
        v = dt.datetime.fromisoformat(str(v))
    return v if v.tzinfo is not None else v.replace(tzinfo=dt.UTC)  # SQLite: naive UTC


def _parse_date(v: Any) -> Any:
    if v is None or isinstance(v, dt.date):
        return v
    return dt.date.fromisoformat(str(v))


def compute_facts(
    *,
    id_range: tuple[int, int] | None = None,
    batch: int = 5000,
    progress: Callable[[int], Any] | None = None,
    on_cells: Callable[[rules.Cells], Any] | None = None,
) -> int:
    """Write the ``CaseFact`` of every case (of ``id_range``, inclusive), computed by
    ``rules.contributions``; the cases must have none yet. ``on_cells`` receives each batch's
    summed cells (to upsert them instead of summing the facts afterwards). One transaction;
    returns the cases read."""
    from xinfang.cases.models import Case, CaseEvent, Deadline, DeadlineKind

    categories, places = rules.CategoryMap(), rules.PlaceMap()
    qn = connection.ops.quote_name
    case_t, ev_t, dl_t = (qn(m._meta.db_table) for m in (Case, CaseEvent, Deadline))
    fact_t = qn(CaseFact._meta.db_table)
    cells_field = CaseFact._meta.get_field("cells")
    kinds = sorted(rules.COUNTED_KINDS)
    marks = ", ".join(["%s"] * len(kinds))
    last, stop = (0, 2**62) if id_range is None else (id_range[0] - 1, id_range[1])
    n = 0
    with transaction.atomic(), connection.cursor() as cur:
        now_db = CaseFact._meta.get_field("computed_at").get_db_prep_save(
            timezone.now(), connection
        )
        while True:
            cur.execute(
                f"SELECT {', '.join(qn(c) for c in _CASE_COLS)} FROM {case_t} "
                "WHERE id > %s AND id <= %s ORDER BY id LIMIT %s",
                [last, stop, batch],
            )
            rows = cur.fetchall()
            if not rows:
                break
            lo, hi = rows[0][0], rows[-1][0]
            last = hi
            cases = [
                rules.CaseRow(
                    r[0],
                    r[1],
                    _parse_dt(r[2]),
                    r[3],
                    r[4],
                    r[5],
                    r[6],
                    r[7],
                    r[8],
                    bool(r[9]),
                    bool(r[10]),
                )
                for r in rows
            ]
            events: dict[int, list[rules.EventRow]] = {c.pk: [] for c in cases}
            cur.execute(
                f"SELECT case_id, kind, at, to_status, actor_unit_id, data FROM {ev_t} "
                f"WHERE case_id BETWEEN %s AND %s AND (kind IN ({marks}) "
                "OR to_status <> '') ORDER BY case_id, at, id",
                [lo, hi, *kinds],
            )
            for cid, kind, at, to_status, unit, data in cur.fetchall():
                if cid in events:
                    if isinstance(data, str):
                        data = json.loads(data)
                    events[cid].append(
                        rules.EventRow(kind, _parse_dt(at), to_status, unit, data or {})
                    )
            dls: dict[int, list[rules.DeadlineRow]] = {c.pk: [] for c in cases}
            cur.execute(
                f"SELECT case_id, kind, started_on, due_on, cancelled_at FROM {dl_t} "
                "WHERE case_id BETWEEN %s AND %s AND kind IN (%s, %s)",
                [lo, hi, DeadlineKind.ACCEPT, DeadlineKind.HANDLE],
            )
            for cid, kind, started, due, cancelled in cur.fetchall():
                if cid in dls:
                    dls[cid].append(
                        rules.DeadlineRow(
                            kind, _parse_date(started), _parse_date(due), _parse_dt(cancelled)
                        )
                    )
            total: rules.Cells = {}
            facts = []
            for c in cases:
                cells = rules.contributions(
                    c, events[c.pk], dls[c.pk], categories=categories, places=places
                )
                facts.append(
                    (
                        c.pk,
                        cells_field.get_db_prep_save(rollup._encode(cells), connection),
                        now_db,
                        rules.RULES_VERSION,
                    )
                )
                if on_cells is not None:
                    for key, values in cells.items():
                        acc = total.setdefault(key, [0] * len(values))
                        for j, v in enumerate(values):
                            acc[j] += v
            cur.executemany(
                f"INSERT INTO {fact_t} (case_id, cells, computed_at, rules_version) "
                "VALUES (%s, %s, %s, %s)",
                facts,
            )
            if on_cells is not None:
                on_cells(total)
            n += len(cases)
            if progress:
                progress(n)
    return n


@dataclass(frozen=True)
class CellSQL:
    """SQL over the cells stored on the facts, in the connection's dialect: ``source`` (every
    fact ``f`` × each of its cells), ``el(k, cast)`` (element *k* of a cell: 0 table, 1 day,
    then dimensions and measures), ``month(expr)`` (the first of the month of a date) and
    ``tab`` (the cell's table code)."""

    pg: bool

    @classmethod
    def here(cls) -> CellSQL:
        return cls(connection.vendor == "postgresql")

    def source(self, facts: str = "f") -> str:
        fact_t = connection.ops.quote_name(CaseFact._meta.db_table)
        if self.pg:
            return (
                f"{fact_t} {facts} CROSS JOIN LATERAL jsonb_array_elements({facts}.cells) AS j(v)"
            )
        return f"{fact_t} {facts}, json_each({facts}.cells) AS j"

    def el(self, k: int, cast: str = "int") -> str:
        return f"(j.v->>{k})::{cast}" if self.pg else f"json_extract(j.value, '$[{k}]')"

    def month(self, expr: str) -> str:
        if self.pg:
            return f"date_trunc('month', {expr})::date"
        return f"strftime('%%Y-%%m-01', {expr})"  # (%%: the statements run with parameters)

    @property
    def tab(self) -> str:
        return self.el(0, "text")


def rollups_from_facts() -> None:
    """The day and month rollups as one ``INSERT … SELECT … GROUP BY`` each over the cells stored
    on the facts, then the projections. The rollup tables must be empty."""
    sql = CellSQL.here()
    pg, qn, el = sql.pg, connection.ops.quote_name, sql.el
    with transaction.atomic():
        for code in rollup.FACT_TABLES:
            day_model, month_model, dims, measures = rollup.TABLES[code]
            dim_exprs = []
            for k, d in enumerate(dims, start=2):
                t = day_model._meta.get_field(d).get_internal_type()
                if t == "BooleanField":
                    dim_exprs.append(f"({el(k, 'int')} = 1)" if pg else el(k, "int"))
                elif t == "CharField":
                    dim_exprs.append(el(k, "text"))
                else:
                    dim_exprs.append(el(k, "int"))
            base = 2 + len(dims)
            sums = [f"SUM({el(base + m, 'int')})" for m in range(len(measures))]
            day_expr = el(1, "date")
            for model, time_col, texpr in (
                (day_model, "day", day_expr),
                (month_model, "month", sql.month(day_expr)),
            ):
                cols = ", ".join(qn(c) for c in (time_col, *dims, *measures))
                keys = ", ".join([texpr, *dim_exprs])
                statement = (
                    f"INSERT INTO {qn(model._meta.db_table)} ({cols}) "
                    f"SELECT {keys}, {', '.join(sums)} FROM {sql.source()} "
                    f"WHERE {sql.tab} = %s GROUP BY {keys}"
                )
                with connection.cursor() as cur:
                    cur.execute(statement, [code])
        rollup.project_all()
        spots_from_facts()


def spots_sql() -> str:
    """``INSERT … SELECT … GROUP BY`` of the ``HandlingSpot`` rows from the facts' handling
    cells: per (case, unit, category, month), bit *k* of ``measures`` set when measure *k* is
    non-zero in a cell of the month (``rollup.spots_of`` in SQL). One parameter: the table."""
    sql = CellSQL.here()
    el, month = sql.el, sql.month(sql.el(1, "date"))
    base = 2 + len(HANDLING_DIMS)
    bits = " + ".join(
        f"MAX(CASE WHEN {el(base + k)} <> 0 THEN {1 << k} ELSE 0 END)"
        for k in range(len(HANDLING_MEASURES))
    )
    return (
        f"INSERT INTO {HandlingSpot._meta.db_table} "
        "(case_id, unit_id, category_id, month, measures) "
        f"SELECT f.case_id, {el(2)}, {el(3)}, {month}, {bits} FROM {sql.source()} "
        f"WHERE {sql.tab} = %s GROUP BY f.case_id, {el(2)}, {el(3)}, {month}"
    )


def spots_from_facts() -> int:
    """The ``HandlingSpot`` rows rebuilt from the facts in one statement (``spots_sql``),
    replacing what the table held. Returns the rows."""
    HandlingSpot.objects.all().delete()
    with connection.cursor() as cur:
        cur.execute(spots_sql(), [rules.HANDLING])
        return int(cur.rowcount)


def rebuild(*, batch: int = 5000, progress: Callable[[int], Any] | None = None) -> int:
    """Empty, compute every case's facts, sum them: ``rollup.rebuild()``'s result, set-based.
    One transaction; returns the cases read."""
    with transaction.atomic():
        rollup.clear()
        n = compute_facts(batch=batch, progress=progress)
        rollups_from_facts()
    return n
