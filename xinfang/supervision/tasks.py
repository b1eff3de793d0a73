"""Background task of the supervision sweep (django-tasks; worker: ``manage.py db_worker``)."""

from __future__ import annotations

from django_tasks import task


@task()
def sweep_deadlines(run_id: int | None = None, today: str | None = None) -> str:
    """Run the escalation sweep. ``run_id``: the queued ``SweepRun`` row ("立即运行" or
    ``manage.py supervision_sweep --enqueue``) that records progress; ids cross the queue."""
    import datetime as dt

    from xinfang.supervision.models import SweepRun
    from xinfang.supervision.sweep import run_sweep

    run = SweepRun.objects.filter(pk=run_id).first() if run_id else None
    day = dt.date.fromisoformat(today) if today else None
    result = run_sweep(day, run=run)
    return f"{result.state} created={result.created} examined={result.examined}"
