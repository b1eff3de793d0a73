"""Who is the on-duty leader (值班领导) of an office on a day."""

from __future__ import annotations

import datetime as dt
from typing import Any

from xinfang.org.models import Unit


def on_duty_leaders(office: Unit, day: dt.date) -> list[Any]:
    """The leaders on duty for ``office`` on ``day`` (the roster, active users), else the
    leaders over it (``notify.leaders_over``: the office's own, or the nearest unit above)."""
    from xinfang.notify.services import leaders_over
    from xinfang.reception.models import DutyRoster

    rows = (
        DutyRoster.objects.filter(office=office, day=day, leader__is_active=True)
        .select_related("leader")
        .order_by("id")
    )
    roster = [r.leader for r in rows]
    if roster:
        return roster
    return list(leaders_over(office))
