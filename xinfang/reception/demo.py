"""Demo 接待台 data (after ``load_cases``): the on-duty roster for this week, a 领导接待日 next
week with two bookings of petitioners on file, and one case under 包案 — so the desk, the
leader's start page and /reception/days/ show something on a fresh demo. Idempotent: skipped
when any reception day exists."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from xinfang.cases.models import OPEN_STATUSES, Case, CasePetitioner
from xinfang.core.errors import DomainError
from xinfang.reception import services
from xinfang.reception.models import ReceptionDay


def load_reception(org: Any) -> int:
    if ReceptionDay.objects.exists():
        return 0
    office = org.units["office"]
    clerk = org.user("banan")
    leader = org.user("lingdao")
    today = timezone.localdate()
    for offset in range(7):
        services.roster_add(
            office=office, day=today + dt.timedelta(days=offset), leader=leader, by=clerk
        )
    day = services.day_create(
        office=office,
        by=clerk,
        leader=leader,
        date=today + dt.timedelta(days=7),
        start_time=dt.time(9, 0),
        end_time=dt.time(11, 30),
        place="区信访局一楼接待大厅",
        topics="征地拆迁、劳动保障",
        capacity=6,
    )
    made = 1
    cases = Case.objects.filter(office_unit=office, status__in=OPEN_STATUSES, purpose="appeal")
    for case in cases.order_by("-received_at")[:2]:
        if not CasePetitioner.objects.filter(case=case).exists():
            continue
        try:
            services.booking_create(day=day, by=clerk, topic=case.summary[:300], case=case)
        except DomainError:  # the same person twice: one booking is enough for the demo
            continue
        made += 1
    owned = cases.order_by("received_at").first()
    if owned is not None:
        services.case_assign_owner(case=owned, leader=leader, by=clerk, note="演示：领导包案")
    return made
