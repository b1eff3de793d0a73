"""Rebuild the statistics rollups from the cases (after a bulk load that bypassed events)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from xinfang.stats import rollup


class Command(BaseCommand):
    help = "重建统计汇总（清空后由全部事项重新计算）"

    def handle(self, *args: Any, **opts: Any) -> None:
        def progress(n: int) -> None:
            if n % 100_000 < 2000:
                self.stderr.write(f"  已计算 {n} 件")

        n = rollup.rebuild(progress=progress)
        self.stdout.write(f"已重建：{n} 件事项。")
