from __future__ import annotations

from typing import Any

from xinfang.audit.checks import check_retention, retention_days


def test_default_keeps_the_log_indefinitely(settings: Any) -> None:
    settings.AUDIT_RETENTION_DAYS = None
    assert retention_days() is None and check_retention() == []


def test_at_least_six_months(settings: Any) -> None:
    settings.AUDIT_RETENTION_DAYS = 180
    assert check_retention() == []
    settings.AUDIT_RETENTION_DAYS = 90
    [error] = check_retention()
    assert error.id == "xinfang_audit.E002" and "至少保存 180 天" in error.msg
    settings.AUDIT_RETENTION_DAYS = "半年"
    assert check_retention()[0].id == "xinfang_audit.E001"
