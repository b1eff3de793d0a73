"""The shape of the daily sweep commands (``instructions_sweep``, ``screening_sweep``,
``warning_sweep``, ``bulletin_sweep``): ``--date YYYY-MM-DD`` (default today) and ``--enqueue``
(hand the run to the task worker instead). A command names its task and says what a run does
and prints; parsing, the Chinese error and the enqueue message live here once."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class SweepCommand(BaseCommand):
    date_help = "按哪一天计算（YYYY-MM-DD，默认今天）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help=self.date_help)
        parser.add_argument("--enqueue", action="store_true", help="交给后台任务执行")

    def task(self) -> Any:
        """The ``django-tasks`` task taking the day as an ISO string (or None: today)."""
        raise NotImplementedError

    def run(self, day: dt.date | None) -> None:
        """Run the sweep here and write what it did."""
        raise NotImplementedError

    def handle(self, *args: Any, **options: Any) -> None:
        day = None
        if options.get("date"):
            try:
                day = dt.date.fromisoformat(options["date"])
            except ValueError as exc:
                raise CommandError("日期格式应为 YYYY-MM-DD") from exc
        if options.get("enqueue"):
            result = self.task().enqueue(day.isoformat() if day else None)
            self.stdout.write(f"已加入后台任务：{result.id}")
            return
        self.run(day)
