"""``manage.py informant_escalate [--minutes 30] [--enqueue]``: urgent informant reports still
unacknowledged after each window re-alert the leaders one level further up (idempotent: run it
every few minutes from cron, or enqueue it for the task worker)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "信息员紧急报告超时未确认：逐级提醒上一级领导（每个报告每一档只提醒一次，可重复运行）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--minutes", type=int, default=30, help="每档分钟数（默认30）")
        parser.add_argument("--enqueue", action="store_true", help="交给后台任务执行")

    def handle(self, *args: Any, **options: Any) -> None:
        minutes = int(options.get("minutes") or 30)
        if not 1 <= minutes <= 1440:
            raise CommandError("分钟数应在1至1440之间")
        if options.get("enqueue"):
            from xinfang.prevention.tasks import informant_escalate_task

            result = informant_escalate_task.enqueue(minutes)
            self.stdout.write(f"已加入后台任务：{result.id}")
            return
        from xinfang.prevention.informants import urgent_unacknowledged

        n = urgent_unacknowledged(minutes=minutes)
        self.stdout.write(f"紧急报告逐级提醒：{n} 件")
