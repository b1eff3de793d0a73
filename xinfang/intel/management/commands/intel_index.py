"""``manage.py intel_index [--rebuild] [--batch N]``: similar-case vectors receivers missed."""

from __future__ import annotations

import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from xinfang.intel.similar import vectors_fill


class Command(BaseCommand):
    help = (
        "为尚无相似案件特征的事项（批量导入、接收器失败）计算并保存特征；"
        "--rebuild 重算全部事项的特征（特征算法变更后使用）。进度输出到 stderr。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rebuild", action="store_true", help="重算全部事项的特征")
        parser.add_argument("--batch", type=int, default=2000, help="每批事项数（默认 2000）")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()

        def progress(done: int, total: int) -> None:
            rate = done / max(time.monotonic() - started, 1e-9)
            sys.stderr.write(f"\r已处理 {done}/{total} 件（{rate:.0f} 件/秒）")
            sys.stderr.flush()

        done = vectors_fill(
            rebuild=options["rebuild"], batch=max(1, options["batch"]), progress=progress
        )
        if done:
            sys.stderr.write("\n")
        elapsed = time.monotonic() - started
        self.stdout.write(f"写入相似案件特征 {done} 件，用时 {elapsed:.1f} 秒")
