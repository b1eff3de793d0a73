"""Django's ``flush`` (empty every table), with the audit table's append-only triggers lifted
for the moment of the wipe — otherwise they refuse it (SQLite deletes row by row; PostgreSQL's
TRUNCATE trigger). Wiping the whole database is the database owner's act, like dropping it;
the test runner uses it between transactional tests."""

from __future__ import annotations

from typing import Any

from django.core.management.commands.flush import Command as FlushCommand
from django.db import DEFAULT_DB_ALIAS, connections

from xinfang.audit import triggers


class Command(FlushCommand):
    def handle(self, **options: Any) -> None:
        conn = connections[options.get("database") or DEFAULT_DB_ALIAS]
        with triggers.suspended(conn):
            super().handle(**options)
