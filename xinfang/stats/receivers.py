"""The rollups follow the case events: every event that can change a case's counts refreshes
the case's cells in the same transaction (``rollup.refresh``)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from xinfang.cases.models import CaseEvent
from xinfang.stats import rollup, rules

# Event kinds that change what a case counts as without changing its status.
REFRESH_KINDS = rules.COUNTED_KINDS | {"register", "correct", "merge", "merge_in"}


@receiver(post_save, sender=CaseEvent, dispatch_uid="stats_refresh_on_event")
def refresh_on_event(sender: Any, instance: CaseEvent, created: bool, **kwargs: Any) -> None:
    if not created or kwargs.get("raw"):
        return
    if instance.kind == "register":  # once per case, written by cases.registration only
        rollup.register(instance.case, instance)
    elif instance.kind in REFRESH_KINDS or instance.to_status:
        rollup.refresh(instance.case_id)
