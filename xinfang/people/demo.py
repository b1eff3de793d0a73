"""Demo 重点人员: the two petitioners with the most cases are flagged (after ``load_cases``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count

from xinfang.people.models import KeyPerson, Petitioner

REASONS = ["同一事项多次重复信访，已复核终结仍反复来访", "多次越级走访，情绪激动"]


def load_key_persons(org: Any) -> int:
    """Flag up to two frequent petitioners (idempotent: skipped when any flag exists)."""
    if KeyPerson.objects.exists():
        return 0
    by = org.user("banan")
    frequent = (
        Petitioner.objects.filter(merged_into__isnull=True)
        .annotate(n=Count("parties"))
        .filter(n__gte=2)
        .order_by("-n", "id")[: len(REASONS)]
    )
    made = 0
    for person, reason in zip(frequent, REASONS, strict=False):
        KeyPerson.objects.create(
            petitioner=person, reason=reason, since=dt.date(2026, 1, 5), added_by=by
        )
        made += 1
    return made
