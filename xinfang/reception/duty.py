"""Who is the on-duty leader (值班领导) of an office on a day."""

from __future__ import annotations

import datetime as dt
from typing import Any

from xinfang.org.models import Unit


def on_duty_leaders(office: Unit, day: dt.date) -> list[Any]:
    """The leaders on duty for ``office`` on ``day`` (roster), else the leaders over it."""
    from xinfang.notify.services import leaders_over

    return list(leaders_over(office))
