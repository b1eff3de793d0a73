"""``manage.py bulletin_sweep [--date YYYY-MM-DD] [--enqueue]``: issue the missing weekly and
monthly 通报 of the latest complete week and month (idempotent: run it daily from cron)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "通报：补发最近一个完整周、完整月尚未生成的周通报和月通报（可重复运行）"

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
            from xinfang.stats.tasks import bulletin_sweep_task

            result = bulletin_sweep_task.enqueue(day.isoformat() if day else None)
            self.stdout.write(f"已加入后台任务：{result.id}")
            return
        from xinfang.stats.tasks import bulletin_sweep

        out = bulletin_sweep(day)
        self.stdout.write(
            f"通报：新生成 {len(out['issued'])} 期，已存在 {out['existing']} 期，"
            f"失败 {len(out['failed'])} 期"
        )
        if out["failed"]:
            raise CommandError(f"通报生成失败：{out['failed']}")
