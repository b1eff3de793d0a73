"""Rebuild the statistics rollups from the cases (after a bulk load that bypassed events).

``--bulk``: the set-based path (``stats.bulk``: the rules write every case's facts, then one
``INSERT … SELECT … GROUP BY`` per table) — for millions of cases (docs/statistics.md §9)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from xinfang.stats import bulk, rollup


class Command(BaseCommand):
    help = "重建统计汇总（清空后由全部事项重新计算）"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--bulk",
            action="store_true",
            help="批量重建：先逐件计算统计事实，再按表一次汇总（数百万件事项时用）",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        def progress(n: int) -> None:
            if n % 100_000 < 2000:
                self.stderr.write(f"  已计算 {n} 件")

        n = (bulk.rebuild if opts["bulk"] else rollup.rebuild)(progress=progress)
        self.stdout.write(f"已重建：{n} 件事项。")
