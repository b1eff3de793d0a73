"""``manage.py portal_purge``: delete the portal's expired pending submissions (and their
files), used verification codes and ended rate-limit windows (xinfang/portal/maintenance.py).
Run hourly from cron or a timer."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from xinfang.portal.maintenance import purge_expired


class Command(BaseCommand):
    help = "删除网上信访过期的待确认提交（含附件）、验证码和访问频率计数"

    def handle(self, *args: Any, **options: Any) -> None:
        counts = purge_expired()
        self.stdout.write(
            f"已删除：待确认提交 {counts['pending']} 条，验证码 {counts['challenges']} 条，"
            f"访问频率计数 {counts['rate_counters']} 条"
        )
