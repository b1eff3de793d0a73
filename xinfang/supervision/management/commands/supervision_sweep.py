"""``manage.py supervision_sweep [--enqueue] [--today YYYY-MM-DD] [--batch N]``: the escalation
sweep (临期提醒/催办/督办/提级督办). Run it daily from cron or a systemd timer (README
"Operations"); it is idempotent, so running it again, or after an interruption, is safe."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "督办扫描：按督办规则生成临期提醒、催办、督办、提级督办（可重复运行）"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--enqueue", action="store_true", help="交给后台任务队列（db_worker）")
        parser.add_argument("--today", help="按该日期检查（YYYY-MM-DD，默认今天）")
        parser.add_argument("--batch", type=int, default=1000, help="每个事务处理的期限数")

    def handle(self, *args: Any, **opts: Any) -> None:
        from xinfang.supervision.models import SweepRun
        from xinfang.supervision.sweep import run_sweep
        from xinfang.supervision.tasks import sweep_deadlines

        today = None
        if opts["today"]:
            try:
                today = dt.date.fromisoformat(opts["today"])
            except ValueError as exc:
                raise CommandError(f"日期格式应为 YYYY-MM-DD：{opts['today']}") from exc
        if opts["enqueue"]:
            run = SweepRun.objects.create(state=SweepRun.State.QUEUED, today=today)
            sweep_deadlines.enqueue(run_id=run.pk, today=opts["today"])
            self.stdout.write(f"已提交督办扫描 #{run.pk}（由 db_worker 执行）")
            return
        run = run_sweep(today, batch=opts["batch"])
        self.stdout.write(
            f"督办扫描 #{run.pk} {run.get_state_display()}：检查 {run.examined}，"
            f"新增 {run.created}，跳过 {run.skipped}，通知 {run.notified}"
        )
