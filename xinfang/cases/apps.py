from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_open_deadline_triggers(sender: Any, using: str = "default", **kwargs: Any) -> None:
    from django.db import connections

    from xinfang.cases import openstate

    openstate.ensure(connections[using])


class CasesConfig(AppConfig):
    name = "xinfang.cases"
    verbose_name = "信访事项"

    def ready(self) -> None:
        # SQLite drops a table's triggers when a migration rebuilds it: reinstall after migrate
        post_migrate.connect(
            _ensure_open_deadline_triggers, sender=self, dispatch_uid="cases_opendl_triggers"
        )
