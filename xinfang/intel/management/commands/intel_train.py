"""python manage.py intel_train --data FILE.jsonl --model DIR [--cv FOLDS]"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xinfang.intel.classifier import train
from xinfang.intel.jsonl import InputError, read_jsonl_file


class Command(BaseCommand):
    help = "训练分流模型：读取 JSON Lines（id, title, text, label），写入模型目录（无 pickle）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--data", required=True, help="训练数据 JSON Lines 文件")
        parser.add_argument("--model", required=True, help="模型输出目录（不存在则创建）")
        parser.add_argument(
            "--cv", type=int, default=0, help="同时做 k 折交叉验证并把宏 F1 写入 meta.json"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["data"])
        try:
            records = read_jsonl_file(path, what="训练数据")
        except InputError as e:
            raise CommandError(str(e)) from e
        bad = [i for i, r in enumerate(records, 1) if not str(r.get("label") or "").strip()]
        if bad:
            raise CommandError(f"{path} 中有 {len(bad)} 条记录缺少 label（第一条是第 {bad[0]} 条）")
        if len({str(r["label"]) for r in records}) < 2:
            raise CommandError("训练数据至少需要两个不同的类别（label）")
        started = time.perf_counter()
        model = train(records)
        seconds = time.perf_counter() - started
        if options["cv"]:
            from xinfang.intel.evaluate import cross_validate

            rep = cross_validate(records, folds=options["cv"])
            model.meta["cv_macro_f1"] = round(rep.macro_f1, 4)
            model.meta["cv_folds"] = options["cv"]
        out = model.save(options["model"])
        self.stdout.write(
            f"已训练 / trained: {len(records)} 条记录 records, {len(model.labels)} 类 labels, "
            f"{model.meta['features']} 个特征 features, {seconds:.1f} s\n"
            f"版本 / version {model.version} → {out}"
            + (
                f"\n{options['cv']} 折交叉验证宏 F1 / CV macro-F1 {model.meta['cv_macro_f1']}"
                if options["cv"]
                else ""
            )
        )
