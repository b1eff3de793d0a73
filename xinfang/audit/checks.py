"""System check: the audit retention promise is at least 180 days (or indefinite)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

MINIMUM_RETENTION_DAYS = 180


def retention_days() -> int | None:
    """``AUDIT_RETENTION_DAYS``: None (the default) keeps the log indefinitely."""
    value = getattr(settings, "AUDIT_RETENTION_DAYS", None)
    return None if value in (None, 0, "") else int(value)


def check_retention(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    try:
        days = retention_days()
    except (TypeError, ValueError):
        return [checks.Error("AUDIT_RETENTION_DAYS 须为整数天数", id="xinfang_audit.E001")]
    if days is not None and days < MINIMUM_RETENTION_DAYS:
        return [
            checks.Error(
                f"AUDIT_RETENTION_DAYS={days}：审计日志须至少保存 {MINIMUM_RETENTION_DAYS} 天",
                hint="留空（永久保存）或设为不少于 180 的天数",
                id="xinfang_audit.E002",
            )
        ]
    return []


def register() -> None:
    checks.register(check_retention, checks.Tags.security)
