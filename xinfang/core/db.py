"""Database guards: every SQLite connection must run with its durability settings in force.

settings.py asks for them (``init_command``); this module verifies on each new connection and
refuses to continue when they are not in force, so a mis-configured deployment fails loudly at
startup instead of losing data on a power cut.
"""

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created

REQUIRED_SQLITE_PRAGMAS: dict[str, Any] = {
    "journal_mode": "wal",
    "synchronous": 2,  # FULL
    "foreign_keys": 1,
}


def sqlite_pragma_problems(connection: BaseDatabaseWrapper) -> list[str]:
    """The SQLite pragmas not in force on ``connection`` (empty when all is well)."""
    if connection.vendor != "sqlite":
        return []
    problems = []
    with connection.cursor() as cursor:
        for pragma, expected in REQUIRED_SQLITE_PRAGMAS.items():
            cursor.execute(f"PRAGMA {pragma}")
            value = cursor.fetchone()[0]
            if isinstance(expected, str):
                value = str(value).lower()
                # An in-memory (test) database cannot use WAL; it reports "memory".
                if value == "memory":
                    continue
            if value != expected:
                problems.append(f"PRAGMA {pragma} = {value!r}，应为 {expected!r}")
        cursor.execute("PRAGMA busy_timeout")
        if cursor.fetchone()[0] <= 0:
            problems.append("PRAGMA busy_timeout 未设置（应大于0）")
    return problems


def verify_connection(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    problems = sqlite_pragma_problems(connection)
    if problems:
        raise ImproperlyConfigured("SQLite 持久化设置未生效，拒绝启动：" + "；".join(problems))


def install() -> None:
    connection_created.connect(verify_connection, dispatch_uid="xinfang.core.db.verify")


def database_status() -> dict[str, Any]:
    """For /healthz: can we run a query, and on which engine."""
    from django.db import connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        from xinfang.core.faults import fault_cause

        return {
            "ok": False,
            "reachable": False,
            "vendor": connection.vendor,
            "error": exc.__class__.__name__,
            "cause": fault_cause(exc) or "error",
        }
    return {"ok": True, "reachable": True, "vendor": connection.vendor}
