"""Background task of 领导批示 (django-tasks; worker: ``manage.py db_worker``)."""

from __future__ import annotations

from django_tasks import task


@task()
def instructions_sweep_task(today: str | None = None) -> str:
    """The daily 催办 sweep (``services.instructions_sweep``); ``today`` as ``YYYY-MM-DD``
    (default: today, Beijing time). Returns how many 催办单 were issued."""
    import datetime as dt

    from xinfang.instructions.services import instructions_sweep

    day = dt.date.fromisoformat(today) if today else None
    return f"issued {instructions_sweep(day)}"
