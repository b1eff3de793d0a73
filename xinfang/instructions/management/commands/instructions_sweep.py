"""``manage.py instructions_sweep [--date YYYY-MM-DD] [--enqueue]``: 批示催办 for overdue
instructions (idempotent: run it daily from cron, or enqueue it for the task worker)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from xinfang.core.management.sweep import SweepCommand


class Command(SweepCommand):
    help = "领导批示超期催办：对超过落实期限的批示按超期档次各发一次催办单（可重复运行）"

    def task(self) -> Any:
        from xinfang.instructions.tasks import instructions_sweep_task

        return instructions_sweep_task

    def run(self, day: dt.date | None) -> None:
        from xinfang.instructions.services import instructions_sweep

        n = instructions_sweep(day)
        self.stdout.write(f"批示催办：新发催办单 {n} 份")
