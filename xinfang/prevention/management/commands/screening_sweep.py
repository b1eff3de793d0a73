"""``manage.py screening_sweep [--date YYYY-MM-DD] [--enqueue]``: open the current screening
rounds and remind late units (idempotent: run it daily from cron)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "矛盾纠纷排查：开启本期排查轮次，提醒逾期未报送的单位（可重复运行）"

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
            from xinfang.prevention.tasks import screening_sweep_task

            result = screening_sweep_task.enqueue(day.isoformat() if day else None)
            self.stdout.write(f"已加入后台任务：{result.id}")
            return
        from xinfang.prevention.screening import screening_sweep

        out = screening_sweep(day)
        self.stdout.write(f"排查轮次：当前 {out['rounds']} 轮，提醒 {out['reminded']} 个单位")
