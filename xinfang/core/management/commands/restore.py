"""``manage.py restore BACKUP --yes [--force]``: load a backup into the configured database (empty,
unless ``--force``), then recompute every table's row count and hash and compare them with the
manifest, check the attachments and the audit hash chain. Any difference fails the command."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from xinfang.core import backup


class Command(BaseCommand):
    help = "从备份恢复数据库与附件，并逐表核对行数与内容哈希"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("backup", help="备份目录（manage.py backup 生成的 xinfang-… 目录）")
        parser.add_argument("--yes", action="store_true", help="确认恢复（必填）")
        parser.add_argument("--force", action="store_true", help="覆盖非空数据库与附件目录")

    def handle(self, *args: Any, **options: Any) -> None:
        folder = Path(options["backup"])
        if not options["yes"]:
            raise CommandError("恢复会覆盖当前数据库：确认无误后请加 --yes")
        try:
            manifest = backup.read_manifest(folder)
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        if not options["force"]:
            if not backup.database_is_empty():
                raise CommandError("当前数据库不是空库，拒绝恢复（确需覆盖请加 --force）")
            media = Path(settings.MEDIA_ROOT)
            if media.exists() and any(media.iterdir()):
                raise CommandError(f"附件目录 {media} 不是空目录，拒绝恢复（确需覆盖请加 --force）")
        try:
            backup.restore_database(folder, manifest)
            backup.restore_media(folder, manifest)
        except (OSError, RuntimeError, ValueError) as exc:
            raise CommandError(f"恢复失败：{exc}") from exc
        rows = backup.compare(manifest)
        self.stdout.write(f"{'表':<36}{'清单行数':>10}{'恢复行数':>10}  哈希")
        for r in rows:
            mark = "一致" if r.ok else "不一致"
            self.stdout.write(
                f"{r.table:<36}{_n(r.expected_rows):>10}{_n(r.actual_rows):>10}  {mark}"
            )
        bad = [r.table for r in rows if not r.ok]
        missing_media = backup.compare_media(manifest)
        audit = backup.verify_audit()
        self.stdout.write(
            f"附件：{len(manifest['media']) - len(missing_media)}/{len(manifest['media'])} 个一致；"
            f"审计链：{'校验通过' if audit.ok else '校验未通过'}（{audit.checked}条）"
        )
        if bad or missing_media or not audit.ok:
            problems = []
            if bad:
                problems.append("表不一致：" + "、".join(bad))
            if missing_media:
                problems.append("附件缺失或不一致：" + "、".join(missing_media[:10]))
            if not audit.ok:
                problems.append("审计链：" + "；".join(f.message for f in audit.findings[:5]))
            raise CommandError("恢复后核对未通过！" + "；".join(problems))
        from xinfang.audit.services import audit_record

        audit_record(
            action="restore",
            actor="manage.py restore",
            object_type="backup",
            object_id=folder.name,
            summary=f"从 {folder.name} 恢复：{len(rows)} 张表核对一致",
            detail={"files": manifest["files"]},
        )
        self.stdout.write(self.style.SUCCESS(f"恢复完成：{len(rows)} 张表行数与哈希均与清单一致"))


def _n(value: int | None) -> str:
    return "—" if value is None else str(value)
