"""python manage.py intel_neardup [--rebuild] — sign and link cases the receiver missed."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from xinfang.intel.neardup import catch_up


class Command(BaseCommand):
    help = (
        "为尚无文本签名的事项（批量导入、接收器失败）计算 MinHash 签名并归入疑似重复/群发组；"
        "--rebuild 清空全部签名与分组后重算。进度输出到 stderr。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--rebuild", action="store_true", help="删除全部签名、分桶和分组后重新计算"
        )
        parser.add_argument("--batch", type=int, default=500, help="每批事项数（默认 500）")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()

        def progress(done: int, total: int) -> None:
            rate = done / max(time.monotonic() - started, 1e-9)
            self.stderr.write(f"\r已处理 {done}/{total} 件（{rate:.0f} 件/秒）", ending="")
            self.stderr.flush()

        result = catch_up(rebuild=options["rebuild"], progress=progress, batch=options["batch"])
        if result["processed"]:
            self.stderr.write("")
        self.stdout.write(
            f"处理 {result['processed']} 件，新归组 {result['linked']} 件，"
            f"现有疑似重复/群发组 {result['groups']} 个"
        )
