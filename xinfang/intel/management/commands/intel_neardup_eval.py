"""python manage.py intel_neardup_eval --data FILE.jsonl [--data FILE2.jsonl …] [--seed N]"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xinfang.intel.jsonl import InputError, read_jsonl_file
from xinfang.intel.neardup_eval import report


class Command(BaseCommand):
    help = (
        "近似重复检测评估：用真实留言构造扰动副本（插入、删除、句序打乱、同义词替换、标点/全半角、"
        "组合），报告各类型与总体的精确率/召回率/F1、阈值 × 片段长度扫描和签名吞吐量。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--data",
            action="append",
            required=True,
            help="JSON Lines 文件（读 text 字段，label 用于负例分组），可重复给出",
        )
        parser.add_argument("--seed", type=int, default=20200, help="扰动随机种子（默认 20200）")

    def handle(self, *args: Any, **options: Any) -> None:
        records: list[dict] = []
        for name in options["data"]:
            path = Path(name)
            try:
                rows = read_jsonl_file(path, what="数据")
            except InputError as e:
                raise CommandError(str(e)) from e
            for r in rows:
                r.setdefault("_source", path.stem)
            records.extend(rows)
        if not records:
            raise CommandError("数据文件中没有记录")
        report(records, seed=options["seed"], out=lambda text: self.stdout.write(text + "\n"))
