"""Reference data every installation starts with: national deadline rules and the category tree
(the three-level taxonomy of a real city office, shipped in data/categories.jsonl)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CATEGORIES_FILE = Path(__file__).parent / "data" / "categories.jsonl"


def seed_deadline_rules(DeadlineRule: Any) -> None:
    from xinfang.cases.deadlines import NATIONAL_RULES

    for kind, (days, basis) in NATIONAL_RULES.items():
        DeadlineRule.objects.get_or_create(kind=kind, defaults={"days": days, "basis": basis})


def seed_categories(Category: Any) -> int:
    """Create the 3-level tree; idempotent (existing nodes are kept)."""
    created = 0
    cache: dict[tuple[int | None, str], Any] = {}

    def node(parent: Any, name: str, level: int, sort: int) -> Any:
        nonlocal created
        key = (parent.pk if parent else None, name)
        if key not in cache:
            full = f"{parent.full_name}/{name}" if parent else name
            obj, made = Category.objects.get_or_create(
                parent=parent, name=name, defaults={"level": level, "full_name": full, "sort": sort}
            )
            created += made
            cache[key] = obj
        return cache[key]

    with CATEGORIES_FILE.open(encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            row = json.loads(line)
            l1 = node(None, row["level1"], 1, i)
            l2 = node(l1, row["level2"], 2, i)
            node(l2, row["level3"], 3, i)
    return created
