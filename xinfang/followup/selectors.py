"""Reads: the office's task list, the 回访 list, what the case page shows. Every query starts
from ``cases_visible_to(user)``: another unit's task, 回访 or hearing does not exist for you."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from xinfang.cases.models import Purpose
from xinfang.cases.policy import cases_visible_to
from xinfang.followup.models import FollowUp, Hearing, OfficeTask

TASK_STATES = {"open": "待处理", "done": "已办结", "all": "全部"}
FOLLOWUP_STATES = {
    "due": "到期待回访",
    "overdue": "已超期",
    "open": "全部待回访",
    "done": "已回访",
}
DUE_SOON_DAYS = 3


def tasks_for(user: Any, *, state: str = "open", q: str = "") -> QuerySet[OfficeTask]:
    qs = OfficeTask.objects.filter(case__in=cases_visible_to(user).values("pk")).select_related(
        "case", "office_unit", "done_by", "assignee"
    )
    if state in (OfficeTask.State.OPEN, OfficeTask.State.DONE):
        qs = qs.filter(state=state)
    q = q.strip()
    if q:
        # A 检举控告件's task is found by its number only: its text may repeat the accusation.
        words = Q(summary__icontains=q) & ~Q(case__purpose=Purpose.ACCUSATION)
        qs = qs.filter(Q(case__number__icontains=q) | words)
    return qs.order_by("-created_at", "-id")


def task_visible(user: Any, pk: int) -> OfficeTask | None:
    return tasks_for(user, state="all").filter(pk=pk).first()


def followups_for(
    user: Any, *, state: str = "due", today: dt.date | None = None
) -> QuerySet[FollowUp]:
    today = today or timezone.localdate()
    qs = FollowUp.objects.filter(case__in=cases_visible_to(user).values("pk")).select_related(
        "case", "unit", "done_by"
    )
    if state == "all":
        return qs.order_by("due_on", "id")
    if state == "done":
        return qs.filter(done_at__isnull=False).order_by("-done_at", "-id")
    qs = qs.filter(done_at__isnull=True)
    if state == "overdue":
        qs = qs.filter(due_on__lt=today)
    elif state == "due":
        qs = qs.filter(due_on__lte=today + dt.timedelta(days=DUE_SOON_DAYS))
    return qs.order_by("due_on", "id")


def followup_visible(user: Any, pk: int) -> FollowUp | None:
    return followups_for(user, state="all").filter(pk=pk).first()


def hearing_visible(user: Any, pk: int) -> Hearing | None:
    return (
        Hearing.objects.filter(pk=pk, case__in=cases_visible_to(user).values("pk"))
        .select_related("case", "host")
        .first()
    )
