"""``manage.py backup [--output DIR]``: database + attachments + a manifest of counts and hashes
(``xinfang.core.backup``). Safe while the server runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from xinfang.core import backup


class Command(BaseCommand):
    help = "备份数据库与附件，并生成含各表行数和内容哈希的清单"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output",
            default=str(Path(settings.BASE_DIR) / "var" / "backups"),
            help="备份存放目录（默认 var/backups）",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            folder = backup.backup(Path(options["output"]))
        except (OSError, RuntimeError) as exc:
            raise CommandError(f"备份失败：{exc}") from exc
        manifest = backup.read_manifest(folder)
        rows = sum(t["rows"] for t in manifest["tables"].values())
        self._audit(folder, manifest, rows)
        self.stdout.write(
            f"备份完成：{folder}\n"
            f"  {len(manifest['tables'])} 张表，共 {rows} 行；附件 {len(manifest['media'])} 个"
        )

    def _audit(self, folder: Path, manifest: dict[str, Any], rows: int) -> None:
        from xinfang.audit.services import audit_record

        audit_record(
            action="backup",
            actor="manage.py backup",
            object_type="backup",
            object_id=folder.name,
            summary=f"备份 {folder.name}：{rows} 行，附件 {len(manifest['media'])} 个",
            detail={"files": manifest["files"], "vendor": manifest["vendor"]},
        )
