"""``manage.py bulletin_sweep [--date YYYY-MM-DD] [--enqueue]``: issue the missing weekly and
monthly 通报 of the latest complete week and month (idempotent: run it daily from cron)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import CommandError

from xinfang.core.management.sweep import SweepCommand


class Command(SweepCommand):
    help = "通报：补发最近一个完整周、完整月尚未生成的周通报和月通报（可重复运行）"

    def task(self) -> Any:
        from xinfang.stats.tasks import bulletin_sweep_task

        return bulletin_sweep_task

    def run(self, day: dt.date | None) -> None:
        from xinfang.stats.tasks import bulletin_sweep

        out = bulletin_sweep(day)
        self.stdout.write(
            f"通报：新生成 {len(out['issued'])} 期，已存在 {out['existing']} 期，"
            f"失败 {len(out['failed'])} 期"
        )
        if out["failed"]:
            raise CommandError(f"通报生成失败：{out['failed']}")
