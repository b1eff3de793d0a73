"""Database triggers that make the audit entry table append-only.

``install`` is run by migration 0003; it refuses ``UPDATE`` and ``DELETE`` of audit rows (and, on
PostgreSQL, ``TRUNCATE``) whatever code issues them — ORM, admin, raw SQL of the application's
own database user. ``AuditHead`` is not covered: it must move with every append.

The triggers stop the application and its bugs, not the owner of the database, who can drop
them; that is what the hash chain and ``manage.py audit_verify`` are for.

``suspended(connection)`` lifts them for a block: the test helper for tampering, and the
``flush`` command (which wipes every table, like dropping the database). Changing the SQL here
needs a new migration that reinstalls the triggers.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection as default_connection

TABLE = "audit_auditentry"

MESSAGE = "审计记录只能追加，不允许修改或删除"

SQLITE_CREATE = [
    f"""CREATE TRIGGER IF NOT EXISTS audit_entry_no_update BEFORE UPDATE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS audit_entry_no_delete BEFORE DELETE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS audit_entry_no_update",
    "DROP TRIGGER IF EXISTS audit_entry_no_delete",
]

PG_CREATE = [
    f"""CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '{MESSAGE}（%）', TG_OP USING ERRCODE = 'insufficient_privilege';
        END
        $$""",
    f"DROP TRIGGER IF EXISTS audit_entry_append_only ON {TABLE}",
    f"""CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()""",
    f"DROP TRIGGER IF EXISTS audit_entry_no_truncate ON {TABLE}",
    f"""CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON {TABLE}
        FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only()""",
]
PG_DROP = [
    f"DROP TRIGGER IF EXISTS audit_entry_append_only ON {TABLE}",
    f"DROP TRIGGER IF EXISTS audit_entry_no_truncate ON {TABLE}",
    "DROP FUNCTION IF EXISTS audit_entry_append_only()",
]
PG_DISABLE = [f"ALTER TABLE {TABLE} DISABLE TRIGGER USER"]
PG_ENABLE = [f"ALTER TABLE {TABLE} ENABLE TRIGGER USER"]


def _run(conn: Any, statements: list[str]) -> None:
    with conn.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def install(conn: Any = None) -> None:
    conn = conn or default_connection
    if conn.vendor == "sqlite":
        _run(conn, SQLITE_CREATE)
    elif conn.vendor == "postgresql":
        _run(conn, PG_CREATE)


def uninstall(conn: Any = None) -> None:
    conn = conn or default_connection
    if conn.vendor == "sqlite":
        _run(conn, SQLITE_DROP)
    elif conn.vendor == "postgresql":
        _run(conn, PG_DROP)


def installed(conn: Any = None) -> bool:
    """Whether the append-only triggers are present (and enabled) on this database."""
    conn = conn or default_connection
    with conn.cursor() as cursor:
        if conn.vendor == "sqlite":
            cursor.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
                [TABLE],
            )
            return bool(cursor.fetchone()[0] == 2)
        if conn.vendor == "postgresql":
            cursor.execute(
                "SELECT count(*) FROM pg_trigger WHERE tgrelid = %s::regclass "
                "AND NOT tgisinternal AND tgenabled <> 'D'",
                [TABLE],
            )
            return bool(cursor.fetchone()[0] == 2)
    return False


@contextmanager
def suspended(conn: Any = None) -> Iterator[None]:
    """Lift the append-only triggers for the block (tests that tamper; ``flush``)."""
    conn = conn or default_connection
    if conn.vendor == "postgresql":
        _run(conn, PG_DISABLE)
    else:
        uninstall(conn)
    try:
        yield
    finally:
        if conn.vendor == "postgresql":
            _run(conn, PG_ENABLE)
        else:
            install(conn)
