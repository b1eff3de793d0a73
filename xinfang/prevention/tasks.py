"""Background tasks of 预防排查 (django-tasks; worker: ``manage.py db_worker``)."""

from __future__ import annotations

from django_tasks import task


@task()
def screening_sweep_task(today: str | None = None) -> str:
    """The daily 排查 sweep (``screening.screening_sweep``): open the current rounds and remind
    late units. ``today`` as ``YYYY-MM-DD`` (default: today, Beijing time)."""
    import datetime as dt

    from xinfang.prevention.screening import screening_sweep

    day = dt.date.fromisoformat(today) if today else None
    result = screening_sweep(day)
    return f"rounds {result['rounds']}, reminded {result['reminded']}"


@task()
def warning_sweep_task(as_of: str | None = None) -> str:
    """The daily 预警 sweep (``warning.warning_sweep``): every active rule once, idempotent.
    ``as_of`` as ``YYYY-MM-DD`` (default: today, Beijing time)."""
    import datetime as dt

    from xinfang.prevention.warning import warning_sweep

    day = dt.date.fromisoformat(as_of) if as_of else None
    sweep = warning_sweep(day)
    return f"sweep {sweep.pk}: raised {sweep.raised}"


@task()
def informant_escalate_task(minutes: int = 30) -> str:
    """Urgent informant reports still 待确认 after ``minutes``: remind the leaders one level
    further up for each elapsed window (``informants.urgent_unacknowledged``, idempotent)."""
    from xinfang.prevention.informants import urgent_unacknowledged

    return f"escalated {urgent_unacknowledged(minutes=minutes)}"
