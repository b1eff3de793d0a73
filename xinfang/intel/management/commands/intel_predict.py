"""python manage.py intel_predict --model DIR < IN.jsonl > OUT.jsonl

Reads ``{"id","title","text"}`` per line, writes ``{"id","label","scores":{label: p}}`` per line in
the same order (UTF-8, scores sum to 1). Nothing but predictions goes to stdout. A line that is not
a JSON object stops the command before any output: every bad line is named on stderr and the exit
status is 1 (so a half-written output can never be mistaken for a whole one). Blank lines are
skipped. Missing or non-string title/text count as empty.
"""

from __future__ import annotations

import io
import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xinfang.intel.classifier import ModelError, load
from xinfang.intel.jsonl import InputError, read_jsonl

BATCH = 512


class Command(BaseCommand):
    requires_system_checks: list[str] = []  # no database needed; start fast
    stealth_options = ("stdin",)  # call_command(..., stdin=BytesIO) in tests
    help = "用分流模型预测：标准输入 JSON Lines（id, title, text）→ 标准输出（id, label, scores）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--model", required=True, help="intel_train 写出的模型目录")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            model = load(options["model"])
        except ModelError as e:
            raise CommandError(str(e)) from e
        stdin = options.get("stdin") or sys.stdin.buffer
        try:
            records = read_jsonl(stdin)
        except InputError as e:
            raise CommandError(str(e)) from e
        stdout = options.get("stdout") or sys.stdout.buffer
        for start in range(0, len(records), BATCH):
            batch = records[start : start + BATCH]
            probs = model.predict_matrix(batch)
            lines = []
            for rec, row in zip(batch, probs, strict=True):
                best = int(row.argmax())
                scores = {lab: round(float(p), 6) for lab, p in zip(model.labels, row, strict=True)}
                # rounding may move the sum off 1 by a few 1e-6: give the difference to the best
                scores[model.labels[best]] = round(
                    scores[model.labels[best]] + 1.0 - sum(scores.values()), 6
                )
                out = {"id": rec.get("id"), "label": model.labels[best], "scores": scores}
                lines.append(json.dumps(out, ensure_ascii=False))
            blob = ("\n".join(lines) + "\n").encode("utf-8")
            if isinstance(stdout, io.TextIOBase):  # call_command(stdout=StringIO())
                stdout.write(blob.decode("utf-8"))
            else:
                stdout.write(blob)
            stdout.flush()
        self.stderr.write(f"已预测 {len(records)} 条（模型版本 {model.version}）")
