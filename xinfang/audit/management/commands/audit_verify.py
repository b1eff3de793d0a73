"""``manage.py audit_verify [--from SEQ] [--batch N]``: walk the audit chain and say what is wrong.

Prints "审计日志校验通过：共N条，链头#N" and exits 0 when the chain is intact; otherwise one line
per finding (which row, what kind: 修改/删除/插入/顺序调换/截断/链头不符) and exits 1.
The rows are streamed in ``seq`` order in batches, so memory stays flat for millions of rows.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xinfang.audit.chain import KIND_LABELS
from xinfang.audit.selectors import BATCH, verify_chain


class Command(BaseCommand):
    help = "校验审计日志哈希链：发现被修改、删除、插入、调换顺序的记录和被截断的链尾"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--from",
            dest="start",
            type=int,
            default=1,
            metavar="SEQ",
            help="从第 SEQ 条开始校验（其前一条视为可信），默认从第 1 条",
        )
        parser.add_argument(
            "--batch", type=int, default=BATCH, help=f"每批读取的条数，默认 {BATCH}"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch"] < 1:
            raise CommandError("--batch 须为正整数")
        result = verify_chain(start_seq=options["start"], batch=options["batch"])
        if result.ok:
            where = f"（自第{result.start_seq}条起）" if result.start_seq > 1 else ""
            self.stdout.write(result.summary() + where)
            return
        for finding in result.report.findings:
            kind = KIND_LABELS.get(finding.kind, finding.kind)
            row = f"第{finding.seq}条" if finding.seq is not None else "—"
            self.stdout.write(f"[{kind}] {row}：{finding.message}")
        raise CommandError(result.summary())
