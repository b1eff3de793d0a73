"""python manage.py intel_eval --data FILE.jsonl [--folds 5] [--no-cost]"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xinfang.intel.evaluate import cross_validate, measure_cost
from xinfang.intel.jsonl import InputError, read_jsonl_file


class Command(BaseCommand):
    help = "分流模型的分层 k 折交叉验证：宏 F1、准确率、各类 P/R/F1、混淆矩阵、耗时与模型大小。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--data", required=True, help="带 label 的 JSON Lines 文件")
        parser.add_argument("--folds", type=int, default=5, help="折数（默认 5）")
        parser.add_argument(
            "--no-cost", action="store_true", help="只做交叉验证，不测训练时间/延迟/大小"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["data"])
        try:
            records = read_jsonl_file(path, what="数据")
        except InputError as e:
            raise CommandError(str(e)) from e
        if options["folds"] < 2:
            raise CommandError("--folds 至少为 2")
        report = cross_validate(records, folds=options["folds"])
        if not options["no_cost"]:
            measure_cost(records, report)
        self.stdout.write(report.markdown())
