"""manage.py attachment_orphans [--older-than-hours 24] [--delete]: stored files no row points at.

A file is written before its ``Attachment`` row commits; when the transaction rolls back (a later
file of the same registration refused, disk full, the process killed between write and commit)
the file stays behind with no row. Nothing can reach it (downloads go through the row), but it
is personal data on disk: this lists such files, and with ``--delete`` removes them. Files newer
than ``--older-than-hours`` are left alone (their transaction may still be running).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from xinfang.cases.models import Attachment


class Command(BaseCommand):
    help = "列出（或删除）没有附件记录对应的已存储文件（回滚、中断留下的孤立文件）"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--older-than-hours", type=float, default=24.0)
        parser.add_argument("--delete", action="store_true", help="删除找到的孤立文件")

    def handle(self, *args: Any, **options: Any) -> None:
        root = Path(settings.MEDIA_ROOT) / "attachments"
        cutoff = time.time() - options["older_than_hours"] * 3600
        known = set(Attachment.objects.values_list("file", flat=True))
        files = sorted(root.rglob("*")) if root.exists() else []
        orphans = [
            p
            for p in files
            if p.is_file()
            and p.relative_to(settings.MEDIA_ROOT).as_posix() not in known
            and p.stat().st_mtime < cutoff
        ]
        for path in orphans:
            self.stdout.write(f"{'删除' if options['delete'] else '孤立'}：{path}")
            if options["delete"]:
                path.unlink()
        verb = "已删除" if options["delete"] else "找到"
        self.stdout.write(f"{verb}孤立文件 {len(orphans)} 个（已存储附件 {len(known)} 个）")
