"""The daily sweep commands share one shape (``core.management.sweep.SweepCommand``): ``--date``
refused with a Chinese message when malformed, ``--enqueue`` queues the command's own task with
the day for the worker instead of running it."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

SWEEPS = {
    "instructions_sweep": "xinfang.instructions.tasks.instructions_sweep_task",
    "screening_sweep": "xinfang.prevention.tasks.screening_sweep_task",
    "warning_sweep": "xinfang.prevention.tasks.warning_sweep_task",
    "bulletin_sweep": "xinfang.stats.tasks.bulletin_sweep_task",
}


@pytest.mark.parametrize("command", sorted(SWEEPS))
def test_enqueue_queues_the_commands_task_with_the_day(
    command: str, db: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command(command, "--date", "2026-04-06", "--enqueue", stdout=out)
    queued = DBTaskResult.objects.get()
    assert queued.task_path == SWEEPS[command]
    assert queued.args_kwargs["args"] == ["2026-04-06"]
    assert out.getvalue().strip() == f"已加入后台任务：{queued.id}"


@pytest.mark.parametrize("command", sorted(SWEEPS))
def test_a_malformed_date_is_refused_before_anything_runs(command: str, db: Any) -> None:
    from django_tasks_db.models import DBTaskResult

    with pytest.raises(CommandError, match="日期格式应为 YYYY-MM-DD"):
        call_command(command, "--date", "2026/04/06", "--enqueue", stdout=StringIO())
    assert not DBTaskResult.objects.exists()
