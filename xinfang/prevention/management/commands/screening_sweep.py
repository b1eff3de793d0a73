"""``manage.py screening_sweep [--date YYYY-MM-DD] [--enqueue]``: open the current screening
rounds and remind late units (idempotent: run it daily from cron)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from xinfang.core.management.sweep import SweepCommand


class Command(SweepCommand):
    help = "矛盾纠纷排查：开启本期排查轮次，提醒逾期未报送的单位（可重复运行）"

    def task(self) -> Any:
        from xinfang.prevention.tasks import screening_sweep_task

        return screening_sweep_task

    def run(self, day: dt.date | None) -> None:
        from xinfang.prevention.screening import screening_sweep

        out = screening_sweep(day)
        self.stdout.write(f"排查轮次：当前 {out['rounds']} 轮，提醒 {out['reminded']} 个单位")
