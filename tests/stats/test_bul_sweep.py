"""通报 scheduled: the sweep issues the missing weekly/monthly bulletins, catches up, and is
idempotent; the management command."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from xinfang.stats.bulletins import latest_complete
from xinfang.stats.models import Bulletin
from xinfang.stats.tasks import bulletin_sweep

from .factory import at, bulk_cases


def test_latest_complete_periods() -> None:
    assert latest_complete("weekly", dt.date(2026, 4, 6)).start == dt.date(2026, 3, 30)
    assert latest_complete("weekly", dt.date(2026, 4, 5)).start == dt.date(2026, 3, 23)
    assert latest_complete("monthly", dt.date(2026, 1, 1)).start == dt.date(2025, 12, 1)
    assert latest_complete("monthly", dt.date(2024, 3, 1)).end == dt.date(2024, 2, 29)
    # a week across the new year
    week = latest_complete("weekly", dt.date(2026, 1, 5))
    assert (week.start, week.end) == (dt.date(2025, 12, 29), dt.date(2026, 1, 4))


def test_sweep_issues_missing_once_and_catches_up(world: Any) -> None:
    bulk_cases(world, [(3, {"received_at": at("2026-04-02")})])
    first = bulletin_sweep(dt.date(2026, 4, 6))
    assert len(first["issued"]) == 2 and not first["failed"]
    weekly = Bulletin.objects.get(kind="weekly")
    assert (weekly.period_start, weekly.number) == (dt.date(2026, 3, 30), "2026年第1期")
    assert weekly.figures["totals"]["batches"] == 3 and weekly.created_by is None
    monthly = Bulletin.objects.get(kind="monthly")
    assert (monthly.period_start, monthly.number) == (dt.date(2026, 3, 1), "2026年第1期")

    again = bulletin_sweep(dt.date(2026, 4, 7))  # a later day of the same week: nothing new
    assert again["issued"] == [] and again["existing"] == 2
    assert Bulletin.objects.count() == 2

    # the worker was down for three weeks: the missing weeks, oldest first
    later = bulletin_sweep(dt.date(2026, 4, 27))
    weeks = list(
        Bulletin.objects.filter(kind="weekly")
        .order_by("period_start")
        .values_list("period_start", "number")
    )
    assert weeks == [
        (dt.date(2026, 3, 30), "2026年第1期"),
        (dt.date(2026, 4, 6), "2026年第2期"),
        (dt.date(2026, 4, 13), "2026年第3期"),
        (dt.date(2026, 4, 20), "2026年第4期"),
    ]
    assert len(later["issued"]) == 3 and later["existing"] == 1  # March's monthly exists


def test_command(world: Any) -> None:
    import io

    out = io.StringIO()
    call_command("bulletin_sweep", "--date", "2026-04-06", stdout=out)
    assert "新生成 2 期" in out.getvalue()
    out = io.StringIO()
    call_command("bulletin_sweep", "--date", "2026-04-06", stdout=out)
    assert "新生成 0 期，已存在 2 期" in out.getvalue()
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("bulletin_sweep", "--date", "2026/04/06")


def test_task_runs_the_sweep(world: Any, settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    from xinfang.stats.tasks import bulletin_sweep_task

    result = bulletin_sweep_task.enqueue("2026-04-06")
    assert result.return_value == "issued 2, existing 0, failed 0"
