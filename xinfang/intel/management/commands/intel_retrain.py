"""python manage.py intel_retrain [--now] — retrain the routing model from the closed cases.

For cron / systemd timers (weekly, docs/intel.md). Without ``--now`` the task is queued and a
``db_worker`` runs it; ``--now`` trains in this process and reports the result.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xinfang.core.errors import DomainError
from xinfang.intel.models import ModelVersion
from xinfang.intel.registry import retrain, retrain_request


class Command(BaseCommand):
    help = "用公开数据 + 本系统已办结案例重新训练分类模型（默认排入后台任务队列）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--now", action="store_true", help="在本进程内立即训练（不经队列）")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if not options["now"]:
                mv = retrain_request(by=None)
                self.stdout.write(f"已排入后台任务队列（记录 #{mv.pk}），由 db_worker 执行。")
                return
            mv = retrain(by=None)
        except DomainError as e:
            raise CommandError(e.message) from e
        if mv.state != ModelVersion.State.READY:
            raise CommandError(f"重新训练未产生新版本：{mv.error}")
        self.stdout.write(
            f"新版本 {mv.version[:12]}：{mv.n_train} 条（本系统 {mv.n_own} 条），"
            f"macro-F1 {mv.metrics.get('macro_f1')}（{mv.metrics.get('method')}），"
            + ("已启用。" if mv.is_active else "未启用（不如当前版本）。")
        )
