"""``manage.py instructions_sweep [--date YYYY-MM-DD] [--enqueue]``: 批示催办 for overdue
instructions (idempotent: run it daily from cron, or enqueue it for the task worker)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "领导批示超期催办：对超过落实期限的批示按超期档次各发一次催办单（可重复运行）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="按哪一天计算（YYYY-MM-DD，默认今天）")
        parser.add_argument("--enqueue", action="store_true", help="交给后台任务执行")

    def handle(self, *args: Any, **options: Any) -> None:
        day = None
        if options.get("date"):
            try:
                day = dt.date.fromisoformat(options["date"])
            except ValueError as exc:
                raise CommandError("日期格式应为 YYYY-MM-DD") from exc
        if options.get("enqueue"):
            from xinfang.instructions.tasks import instructions_sweep_task

            result = instructions_sweep_task.enqueue(day.isoformat() if day else None)
            self.stdout.write(f"已加入后台任务：{result.id}")
            return
        from xinfang.instructions.services import instructions_sweep

        n = instructions_sweep(day)
        self.stdout.write(f"批示催办：新发催办单 {n} 份")
