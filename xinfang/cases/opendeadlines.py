"""``OpenDeadline`` — the open obligation deadlines with their case's units — kept by database
triggers, rebuilt and checked here.

Why triggers: deadlines are written by the lifecycle services through ``cases.deadlines``, but
also by ``QuerySet.update`` (merge, tests that age a case), by bulk loads and by data repairs;
a trigger sees every one of those writes, in the writing transaction, on SQLite and
PostgreSQL alike. Four of them:

* after INSERT / UPDATE / DELETE on ``cases_deadline``: the deadline's row is dropped and, if the
  deadline is now an open obligation (``OBLIGATION_KINDS``, not met, not cancelled, not
  paused), written again with its case's registering unit and holder;
* after UPDATE of ``handling_unit_id`` / ``office_unit_id`` on ``cases_case``: the case's rows
  take the new units.

SQLite drops a table's triggers when a migration rebuilds the table, so they are (re)installed
after every ``migrate`` (``post_migrate``: ``ensure``), which also refills the table whenever a
trigger was missing. ``check()`` compares the table with the deadlines (``stats_check`` reports
it, ``--repair`` rebuilds).
"""

from __future__ import annotations

from typing import Any

from django.db import connection as default_connection
from django.db import transaction

from xinfang.cases.models import OBLIGATION_KINDS, Case, Deadline, OpenDeadline

TRIGGERS = ("cases_opendl_ins", "cases_opendl_upd", "cases_opendl_del", "cases_opendl_case")
_KINDS = ", ".join(f"'{k}'" for k in sorted(OBLIGATION_KINDS))
_T = OpenDeadline._meta.db_table
_D = Deadline._meta.db_table
_C = Case._meta.db_table
_COLS = "deadline_id, case_id, kind, due_on, office_unit_id, holder_id"


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
    """The table again from the deadlines and cases (one ``INSERT … SELECT``). Returns rows."""
    with transaction.atomic(using=conn.alias), conn.cursor() as cur:
        cur.execute(f"DELETE FROM {_T}")
        cur.execute(f"{_insert_from('d', f'JOIN {_D} d ON d.case_id = c.id ')} AND {_open('d')}")
        n = int(cur.rowcount)
        if conn.vendor == "postgresql":
            cur.execute(f"ANALYZE {_T}")  # the planner's estimates of the refilled table
        return n


def ensure(conn: Any = default_connection) -> bool:
    """Install the triggers if one is missing, then refill the table (what was written
    without them is not in it). Returns True when it installed them; nothing while the table
    does not exist (migrated back below it)."""
    if conn.vendor not in ("postgresql", "sqlite") or installed(conn) == set(TRIGGERS):
        return False
    if _T not in conn.introspection.table_names():
        return False  # migrated back below the table on purpose
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
