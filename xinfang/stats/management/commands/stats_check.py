"""Recompute the statistics rollups from the cases and their events and report differences."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from xinfang.stats import rollup


class Command(BaseCommand):
    help = "核对统计汇总：由事项及其动态重新计算，报告与汇总表的差异（--repair 修复）"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--since",
            help="只核对该日（YYYY-MM-DD）以来有动态的事项及该日以来的汇总（月汇总仅当该日为1日时核对）",
        )
        parser.add_argument("--repair", action="store_true", help="按重新计算的结果修复")
        parser.add_argument("--show", type=int, default=20, help="列出的差异条数（默认20）")

    def handle(self, *args: Any, **opts: Any) -> None:
        since = None
        if opts["since"]:
            try:
                since = dt.date.fromisoformat(opts["since"])
            except ValueError as exc:
                raise CommandError("--since 须为日期，如 2026-01-01") from exc

        def progress(n: int) -> None:
            if n % 100_000 < 2000:
                self.stderr.write(f"  已核对 {n} 件")

        report = rollup.check(since=since, repair=opts["repair"], progress=progress)
        self.stdout.write(
            f"事项 {report.cases} 件，汇总单元 {report.cells_checked} 个，"
            f"差异 {len(report.differences)} 个，事实记录不符 {report.facts_wrong} 件、"
            f"缺失 {report.facts_missing} 件，办理统计索引不符 {report.spots_wrong} 件，"
            f"未完成期限表不符 {report.open_wrong} 条，"
            f"在办件数表不符 {report.open_counts_wrong} 组，"
            f"用时 {report.seconds:.1f} 秒"
        )
        for what, key, expected, actual in report.differences[: opts["show"]]:
            self.stdout.write(f"  {what} {key}: 应为 {expected}，实为 {actual}")
        if report.ok:
            self.stdout.write("一致。")
            return
        if not opts["repair"]:
            raise CommandError("统计汇总与重新计算结果不一致（可用 --repair 修复）")
        after = rollup.check(since=since)
        if not after.ok:
            raise CommandError(f"修复后仍有差异 {len(after.differences)} 个，请检查日志")
        self.stdout.write("已修复，复核一致。")
