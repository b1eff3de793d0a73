from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _reinstall_triggers(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """Keep the append-only triggers in place after every migrate/flush: SQLite drops a table's
    triggers when a later migration rebuilds the table."""
    from django.db import connections
    from django.db.migrations.recorder import MigrationRecorder

    from xinfang.audit import triggers

    conn = connections[using]
    if triggers.TABLE not in conn.introspection.table_names():
        return
    if ("audit", "0003_append_only") not in MigrationRecorder(conn).applied_migrations():
        return  # migrated back below the triggers on purpose
    if not triggers.installed(conn):
        triggers.install(conn)


class AuditConfig(AppConfig):
    name = "xinfang.audit"
    verbose_name = "审计日志"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from xinfang.audit import checks, signals

        signals.connect()
        checks.register()
        post_migrate.connect(_reinstall_triggers, sender=self, dispatch_uid="audit_triggers")
