"""python manage.py intel_bootstrap — the first routing model, from the bundled public data."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from xinfang.core.errors import DomainError
from xinfang.intel.models import ModelVersion
from xinfang.intel.registry import bootstrap


class Command(BaseCommand):
    help = "首次启动：没有可用的分类模型时，用随系统发布的公开数据训练并启用；已有则什么也不做。"

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            mv = bootstrap()
        except DomainError as e:
            raise CommandError(e.message) from e
        if mv is None:
            self.stdout.write("已有启用的分类模型，无需训练。")
            return
        if mv.state != ModelVersion.State.READY:
            raise CommandError(f"分类模型训练失败：{mv.error}")
        f1 = mv.metrics.get("macro_f1")
        self.stdout.write(
            f"已启用分类模型 {mv.version[:12]}（{mv.get_source_display()}，"
            f"{mv.n_train} 条训练样本，macro-F1 {f1}）。"
        )
