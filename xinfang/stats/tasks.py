"""Background work of 统计考核 (django-tasks; worker: ``manage.py db_worker``).

``bulletin_sweep(today)``: for each top unit of the tree (the district), issue the weekly
bulletin of the latest complete week and the monthly bulletin of the latest complete month when
they are missing — and any week/month between the last one issued and those (up to
``CATCH_UP`` periods), oldest first, so a missed day or a stopped worker catches up and the
numbers follow the periods. Idempotent: issuing what exists returns it (``issue_bulletin``).
Run daily (cron ``manage.py bulletin_sweep`` or the task).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django_tasks import task

CATCH_UP = {"weekly": 8, "monthly": 3}


def _due_periods(kind: str, unit: Any, today: dt.date) -> list[Any]:
    from xinfang.stats.bulletins import latest_complete
    from xinfang.stats.models import Bulletin

    latest = latest_complete(kind, today)
    last = (
        Bulletin.objects.filter(
            kind=kind, unit=unit, state=Bulletin.State.READY, period_end__lte=latest.end
        )
        .order_by("-period_end")
        .values_list("period_end", flat=True)
        .first()
    )
    periods = [latest]
    while last is not None and len(periods) < CATCH_UP[kind]:
        before = periods[-1].previous()
        if before.end <= last:
            break
        periods.append(before)
    return list(reversed(periods))


def bulletin_sweep(today: dt.date | None = None) -> dict[str, Any]:
    """Issue the missing bulletins (see the module doc). Returns counts and the ids issued."""
    from xinfang.org.models import Unit
    from xinfang.stats.bulletins import issue_bulletin
    from xinfang.stats.models import Bulletin

    today = today or timezone.localdate()
    out: dict[str, Any] = {"issued": [], "existing": 0, "failed": []}
    roots = Unit.objects.filter(parent__isnull=True, is_active=True).order_by("path")
    for unit in roots:
        for kind in ("weekly", "monthly"):
            for period in _due_periods(kind, unit, today):
                before = Bulletin.objects.filter(
                    kind=kind, unit=unit, period_start=period.start, state=Bulletin.State.READY
                ).exists()
                b = issue_bulletin(kind, unit, period, None, today=today)
                if b.state == Bulletin.State.FAILED:
                    out["failed"].append(b.pk)
                elif before:
                    out["existing"] += 1
                else:
                    out["issued"].append(b.pk)
    return out


@task()
def bulletin_sweep_task(today: str | None = None) -> str:
    """The daily 通报 sweep. ``today`` as ``YYYY-MM-DD`` (default: today, Beijing time)."""
    day = dt.date.fromisoformat(today) if today else None
    r = bulletin_sweep(day)
    return f"issued {len(r['issued'])}, existing {r['existing']}, failed {len(r['failed'])}"


@task()
def generate_bulletin(bulletin_id: int) -> str:
    """Generate a requested bulletin (``bulletins.request_bulletin``: the pages and the API queue
    one per click; the row shows the step while this runs)."""
    from xinfang.stats.bulletins import generate_pending

    b = generate_pending(bulletin_id)
    return f"bulletin {bulletin_id}: {b.state if b is not None else 'gone'}"
