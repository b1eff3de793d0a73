"""What is open now, kept by database triggers, rebuilt and checked here: ``OpenDeadline`` (the
open obligation deadlines with their case's units) and ``OpenCaseCount`` (the number of open
cases per registering unit × holder).

Why triggers: deadlines and statuses are written by the lifecycle services, but also by
``QuerySet.update`` (merge, tests that age a case), by bulk loads and by data repairs; a trigger
sees every one of those writes, in the writing transaction, on SQLite and PostgreSQL alike.

``OpenDeadline`` — four triggers:

* after INSERT / UPDATE / DELETE on ``cases_deadline``: the deadline's row is dropped and, if the
  deadline is now an open obligation (``OBLIGATION_KINDS``, not met, not cancelled, not
  paused), written again with its case's registering unit and holder;
* after UPDATE of ``handling_unit_id`` / ``office_unit_id`` on ``cases_case``: the case's rows
  take the new units.

``OpenCaseCount`` — three triggers on ``cases_case`` (INSERT, UPDATE of status or units,
DELETE): an open case (``OPEN_STATUSES``) counts 1 in the row of (registering unit, holder =
handling unit, else the registering one); a status or unit change takes 1 from the old row and
adds 1 to the new one. The 在办 figure of the dashboard and the bulletins is then a sum over a
few hundred rows instead of counting hundreds of thousands of open cases (an index-only scan
of 260 k entries, 63 ms at 10 M). On PostgreSQL the two rows of a move are locked in key order,
so two clerks moving cases in opposite directions cannot deadlock on them. A count row is
written by every registration and closure of its unit pair: concurrent transactions of one pair
wait for each other on it, as they already do on the day's rollup cells of that unit.

SQLite drops a table's triggers when a migration rebuilds the table, so they are (re)installed
after every ``migrate`` (``post_migrate``: ``ensure``), which also refills both tables whenever
a trigger was missing. ``check()`` / ``check_counts()`` compare the tables with the deadlines
and cases (``stats_check`` reports them, ``--repair`` rebuilds).
"""

from __future__ import annotations

from typing import Any

from django.db import connection as default_connection
from django.db import transaction

from xinfang.cases.models import (
    OBLIGATION_KINDS,
    OPEN_STATUSES,
    Case,
    Deadline,
    OpenCaseCount,
    OpenDeadline,
)

COUNT_TRIGGERS = ("cases_opencount_ins", "cases_opencount_upd", "cases_opencount_del")
TRIGGERS = (
    "cases_opendl_ins",
    "cases_opendl_upd",
    "cases_opendl_del",
    "cases_opendl_case",
    *COUNT_TRIGGERS,
)
_KINDS = ", ".join(f"'{k}'" for k in sorted(OBLIGATION_KINDS))
_T = OpenDeadline._meta.db_table
_D = Deadline._meta.db_table
_C = Case._meta.db_table
_COLS = "deadline_id, case_id, kind, due_on, office_unit_id, holder_id"
_N = OpenCaseCount._meta.db_table
_STATUSES = ", ".join(f"'{s}'" for s in sorted(OPEN_STATUSES))


def _open(row: str) -> str:
    """SQL: the deadline ``row`` (NEW, or a table alias) is an open obligation."""
    return (
        f"{row}.kind IN ({_KINDS}) AND {row}.met_at IS NULL AND {row}.cancelled_at IS NULL "
        f"AND NOT {row}.paused"
    )


def _insert_from(row: str, join: str = "") -> str:
    """SQL: write the table's row of the deadline ``row`` (NEW, or the alias of the deadline
    table ``join`` adds) with its case ``c``'s units."""
    return (
        f"INSERT INTO {_T} ({_COLS}) SELECT {row}.id, {row}.case_id, {row}.kind, {row}.due_on, "
        f"c.office_unit_id, COALESCE(c.handling_unit_id, c.office_unit_id) FROM {_C} c {join}"
        f"WHERE c.id = {row}.case_id"
    )


_SET_UNITS = (
    f"UPDATE {_T} SET office_unit_id = NEW.office_unit_id, "
    "holder_id = COALESCE(NEW.handling_unit_id, NEW.office_unit_id) WHERE case_id = NEW.id"
)


def _is_open(row: str) -> str:
    """SQL: the case ``row`` (NEW or OLD) is open."""
    return f"{row}.status IN ({_STATUSES})"


def _pair(row: str) -> str:
    """SQL: the count row's key of the case ``row``: registering unit, holder."""
    return f"{row}.office_unit_id, COALESCE({row}.handling_unit_id, {row}.office_unit_id)"


def _count_add(row: str) -> str:
    """SQL: add 1 to the count of the case ``row``'s pair if the case is open (the WHERE is
    false for a closed one: nothing is inserted)."""
    return (
        f"INSERT INTO {_N} (office_unit_id, holder_id, n) SELECT {_pair(row)}, 1 "
        f"WHERE {_is_open(row)} ON CONFLICT (office_unit_id, holder_id) "
        f"DO UPDATE SET n = {_N}.n + 1"
    )


def _count_take(row: str) -> str:
    """SQL: take 1 from the count of the case ``row``'s pair (callers add the open test)."""
    return (
        f"UPDATE {_N} SET n = n - 1 WHERE office_unit_id = {row}.office_unit_id "
        f"AND holder_id = COALESCE({row}.handling_unit_id, {row}.office_unit_id)"
    )


# an UPDATE that can change a count: open ↔ closed, or an open case's units
_MOVED = (
    f"({_is_open('OLD')}) <> ({_is_open('NEW')}) OR ({_is_open('NEW')} AND "
    "(OLD.office_unit_id <> NEW.office_unit_id OR "
    "COALESCE(OLD.handling_unit_id, OLD.office_unit_id) "
    "<> COALESCE(NEW.handling_unit_id, NEW.office_unit_id)))"
)


def _sqlite() -> list[str]:
    return [
        f"CREATE TRIGGER IF NOT EXISTS cases_opendl_ins AFTER INSERT ON {_D} "
        f"WHEN {_open('NEW')} BEGIN {_insert_from('NEW')}; END",
        f"CREATE TRIGGER IF NOT EXISTS cases_opendl_upd AFTER UPDATE ON {_D} BEGIN "
        f"DELETE FROM {_T} WHERE deadline_id = OLD.id; "
        f"{_insert_from('NEW')} AND {_open('NEW')}; END",
        f"CREATE TRIGGER IF NOT EXISTS cases_opendl_del AFTER DELETE ON {_D} BEGIN "
        f"DELETE FROM {_T} WHERE deadline_id = OLD.id; END",
        "CREATE TRIGGER IF NOT EXISTS cases_opendl_case "
        f"AFTER UPDATE OF handling_unit_id, office_unit_id ON {_C} "
        "WHEN OLD.handling_unit_id IS NOT NEW.handling_unit_id "
        f"OR OLD.office_unit_id IS NOT NEW.office_unit_id BEGIN {_SET_UNITS}; END",
        f"CREATE TRIGGER IF NOT EXISTS cases_opencount_ins AFTER INSERT ON {_C} "
        f"WHEN {_is_open('NEW')} BEGIN {_count_add('NEW')}; END",
        f"CREATE TRIGGER IF NOT EXISTS cases_opencount_upd "
        f"AFTER UPDATE OF status, office_unit_id, handling_unit_id ON {_C} WHEN {_MOVED} BEGIN "
        f"{_count_take('OLD')} AND {_is_open('OLD')}; {_count_add('NEW')}; END",
        f"CREATE TRIGGER IF NOT EXISTS cases_opencount_del AFTER DELETE ON {_C} "
        f"WHEN {_is_open('OLD')} BEGIN {_count_take('OLD')}; END",
    ]


def _postgresql() -> list[str]:
    return [
        "CREATE OR REPLACE FUNCTION cases_opendl_row() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN "
        f"IF TG_OP <> 'INSERT' THEN DELETE FROM {_T} WHERE deadline_id = OLD.id; END IF; "
        f"IF TG_OP <> 'DELETE' AND {_open('NEW')} THEN {_insert_from('NEW')}; END IF; "
        "RETURN NULL; END $$",
        "CREATE OR REPLACE FUNCTION cases_opendl_units() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN {_SET_UNITS}; RETURN NULL; END $$",
        f"DROP TRIGGER IF EXISTS cases_opendl_ins ON {_D}",
        f"CREATE TRIGGER cases_opendl_ins AFTER INSERT ON {_D} FOR EACH ROW "
        f"WHEN ({_open('NEW')}) EXECUTE FUNCTION cases_opendl_row()",
        f"DROP TRIGGER IF EXISTS cases_opendl_upd ON {_D}",
        f"CREATE TRIGGER cases_opendl_upd AFTER UPDATE ON {_D} FOR EACH ROW "
        "EXECUTE FUNCTION cases_opendl_row()",
        f"DROP TRIGGER IF EXISTS cases_opendl_del ON {_D}",
        f"CREATE TRIGGER cases_opendl_del AFTER DELETE ON {_D} FOR EACH ROW "
        "EXECUTE FUNCTION cases_opendl_row()",
        f"DROP TRIGGER IF EXISTS cases_opendl_case ON {_C}",
        f"CREATE TRIGGER cases_opendl_case AFTER UPDATE OF handling_unit_id, office_unit_id "
        f"ON {_C} FOR EACH ROW WHEN (OLD.handling_unit_id IS DISTINCT FROM NEW.handling_unit_id "
        "OR OLD.office_unit_id IS DISTINCT FROM NEW.office_unit_id) "
        "EXECUTE FUNCTION cases_opendl_units()",
        # one function for the three count triggers; a move locks its two rows in key order
        "CREATE OR REPLACE FUNCTION cases_opencount_row() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "DECLARE was boolean := false; now_open boolean := false; "
        "a int; b int; c int; d int; "
        "BEGIN "
        f"IF TG_OP <> 'INSERT' THEN was := {_is_open('OLD')}; "
        "a := OLD.office_unit_id; b := COALESCE(OLD.handling_unit_id, OLD.office_unit_id); END IF; "
        f"IF TG_OP <> 'DELETE' THEN now_open := {_is_open('NEW')}; "
        "c := NEW.office_unit_id; d := COALESCE(NEW.handling_unit_id, NEW.office_unit_id); END IF; "
        "IF was AND now_open AND a = c AND b = d THEN RETURN NULL; END IF; "
        "IF was AND (NOT now_open OR (a, b) < (c, d)) THEN "
        f"UPDATE {_N} SET n = n - 1 WHERE office_unit_id = a AND holder_id = b; was := false; "
        "END IF; "
        f"IF now_open THEN INSERT INTO {_N} (office_unit_id, holder_id, n) VALUES (c, d, 1) "
        f"ON CONFLICT (office_unit_id, holder_id) DO UPDATE SET n = {_N}.n + 1; END IF; "
        f"IF was THEN UPDATE {_N} SET n = n - 1 WHERE office_unit_id = a AND holder_id = b; "
        "END IF; "
        "RETURN NULL; END $$",
        f"DROP TRIGGER IF EXISTS cases_opencount_ins ON {_C}",
        f"CREATE TRIGGER cases_opencount_ins AFTER INSERT ON {_C} FOR EACH ROW "
        f"WHEN ({_is_open('NEW')}) EXECUTE FUNCTION cases_opencount_row()",
        f"DROP TRIGGER IF EXISTS cases_opencount_upd ON {_C}",
        "CREATE TRIGGER cases_opencount_upd AFTER UPDATE OF status, office_unit_id, "
        f"handling_unit_id ON {_C} FOR EACH ROW WHEN ({_MOVED}) "
        "EXECUTE FUNCTION cases_opencount_row()",
        f"DROP TRIGGER IF EXISTS cases_opencount_del ON {_C}",
        f"CREATE TRIGGER cases_opencount_del AFTER DELETE ON {_C} FOR EACH ROW "
        f"WHEN ({_is_open('OLD')}) EXECUTE FUNCTION cases_opencount_row()",
    ]


def installed(conn: Any = default_connection) -> set[str]:
    """The names of the triggers of ``TRIGGERS`` present in the database."""
    with conn.cursor() as cur:
        if conn.vendor == "postgresql":
            cur.execute(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname = ANY(%s)",
                [list(TRIGGERS)],
            )
        else:
            cur.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name IN "
                f"({', '.join('%s' for _ in TRIGGERS)})",
                list(TRIGGERS),
            )
        return {r[0] for r in cur.fetchall()}


def rebuild(conn: Any = default_connection) -> int:
    """Both tables again from the deadlines and cases (one ``INSERT … SELECT`` each). Returns
    the ``OpenDeadline`` rows."""
    with transaction.atomic(using=conn.alias), conn.cursor() as cur:
        cur.execute(f"DELETE FROM {_T}")
        cur.execute(f"{_insert_from('d', f'JOIN {_D} d ON d.case_id = c.id ')} AND {_open('d')}")
        n = int(cur.rowcount)
        cur.execute(f"DELETE FROM {_N}")
        cur.execute(
            f"INSERT INTO {_N} (office_unit_id, holder_id, n) SELECT {_pair('c')}, COUNT(*) "
            f"FROM {_C} c WHERE {_is_open('c')} GROUP BY 1, 2"
        )
        if conn.vendor == "postgresql":
            cur.execute(f"ANALYZE {_T}")  # the planner's estimates of the refilled table
        return n


def ensure(conn: Any = default_connection) -> bool:
    """Install the triggers if one is missing, then refill the table (what was written
    without them is not in it). Returns True when it installed them; nothing while the table
    does not exist (migrated back below it)."""
    if conn.vendor not in ("postgresql", "sqlite") or installed(conn) == set(TRIGGERS):
        return False
    if not {_T, _N} <= set(conn.introspection.table_names()):
        return False  # migrated back below the tables on purpose
    with transaction.atomic(using=conn.alias), conn.cursor() as cur:
        for sql in _postgresql() if conn.vendor == "postgresql" else _sqlite():
            cur.execute(sql)
        rebuild(conn)
    return True


def check() -> list[int]:
    """Ids of the deadlines whose row is missing, surplus or different from what the deadlines
    and cases say (empty: consistent)."""
    from django.db.models import F
    from django.db.models.functions import Coalesce

    want = set(
        Deadline.objects.filter(
            kind__in=OBLIGATION_KINDS, met_at__isnull=True, cancelled_at__isnull=True, paused=False
        )
        .annotate(
            office=F("case__office_unit_id"),
            holder=Coalesce("case__handling_unit_id", "case__office_unit_id"),
        )
        .values_list("pk", "case_id", "kind", "due_on", "office", "holder")
    )
    have = set(
        OpenDeadline.objects.values_list(
            "deadline_id", "case_id", "kind", "due_on", "office_unit_id", "holder_id"
        )
    )
    return sorted({row[0] for row in want ^ have})


def open_cases(units: tuple[int, ...] | None = None) -> int:
    """The number of open cases registered or held in ``units`` (None: all) — the 在办 figure
    (= open cases with ``office_unit_id`` or ``handling_unit_id`` in ``units``: the holder is
    the handling unit, else the registering one)."""
    from django.db.models import Q, Sum

    rows = OpenCaseCount.objects.all()
    if units is not None:
        rows = rows.filter(Q(office_unit_id__in=units) | Q(holder_id__in=units))
    return int(rows.aggregate(n=Sum("n"))["n"] or 0)


def check_counts() -> list[tuple[int, int]]:
    """The (registering unit, holder) pairs whose ``OpenCaseCount`` differs from the open cases
    (empty: consistent)."""
    from collections import Counter

    from django.db.models import Count
    from django.db.models.functions import Coalesce

    open_cases = Case.objects.filter(status__in=OPEN_STATUSES).values(
        "office_unit_id", holder=Coalesce("handling_unit_id", "office_unit_id")
    )
    rows = open_cases.annotate(n=Count("pk")).values_list("office_unit_id", "holder", "n")
    want = Counter({(o, h): n for o, h, n in rows})
    stored = OpenCaseCount.objects.values_list("office_unit_id", "holder_id", "n")
    have = Counter({(o, h): n for o, h, n in stored})
    return sorted(k for k in set(want) | set(have) if want[k] != have[k])
