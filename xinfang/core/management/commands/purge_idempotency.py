"""``manage.py purge_idempotency [--days N]``: drop idempotency records older than the
retention (``IDEMPOTENCY_RETENTION_DAYS``, default 7). Run daily from cron or a timer."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from xinfang.core.idempotency import purge


class Command(BaseCommand):
    help = "删除超过保留期的幂等提交记录（默认 IDEMPOTENCY_RETENTION_DAYS 天）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=None, help="保留天数（覆盖设置）")

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = purge(older_than_days=options["days"])
        self.stdout.write(f"已删除 {deleted} 条过期的幂等提交记录")
