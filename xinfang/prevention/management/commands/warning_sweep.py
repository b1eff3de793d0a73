"""``manage.py warning_sweep [--date YYYY-MM-DD] [--enqueue]``: run the early-warning rules
(idempotent: run it daily from cron, e.g. 06:30, or enqueue it for the task worker)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from xinfang.core.management.sweep import SweepCommand


class Command(SweepCommand):
    help = "预警扫描：按启用的预警规则评估并发出预警（可重复运行，不会重复预警）"
    date_help = "评估日期（YYYY-MM-DD，默认今天）"

    def task(self) -> Any:
        from xinfang.prevention.tasks import warning_sweep_task

        return warning_sweep_task

    def run(self, day: dt.date | None) -> None:
        from xinfang.prevention.warning import warning_sweep

        sweep = warning_sweep(day)
        self.stdout.write(f"预警扫描（{sweep.as_of}）：新发预警 {sweep.raised} 条")
        for code, entry in sweep.stats.items():
            err = f"  错误：{entry['error']}" if entry.get("error") else ""
            if code == "key_reviews":
                self.stdout.write(f"  重点人员评估提醒: {entry.get('notified', 0)} 条{err}")
                continue
            self.stdout.write(
                f"  {code}: 候选 {entry.get('candidates', 0)}，新发 {entry.get('raised', 0)}，"
                f"{entry.get('ms', 0)} ms{err}"
            )
