"""按期答复 (reply_timely) is judged on the 送达 date the clerk entered, not on when the reply was
recorded: a reply served on the due date but recorded two days later is on time, and counts on
its served day."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from tests.conftest import serve_reply
from xinfang.cases import services as S
from xinfang.cases.models import Deadline, DeadlineKind
from xinfang.stats import query
from xinfang.stats.periods import Period


def test_reply_served_on_due_date_is_timely(world: Any, register: Any) -> None:
    now = timezone.now()
    t = now - dt.timedelta(days=120)
    res = register(received_at=t)
    case = getattr(res, "case", res)
    S.case_assign(case=case, by=world.alice, unit=world.street, at=t + dt.timedelta(hours=1))
    S.case_sign_in(case=case, by=world.hank, at=t + dt.timedelta(hours=2))
    S.case_accept(
        case=case, by=world.hank, notice_text="经审查，决定受理。", at=t + dt.timedelta(hours=3)
    )
    handle = Deadline.objects.get(case=case, kind=DeadlineKind.HANDLE)
    due = handle.due_on
    assert due < timezone.localdate() - dt.timedelta(days=1)
    case.refresh_from_db()
    serve_reply(world, case, served_on=due)  # served on the due date, recorded today
    h = query.handling_total(Period(dt.date(2000, 1, 1), timezone.localdate()))
    assert h["reply_done"] == 1
    assert h["reply_timely"] == 1, ("served on", due, "recorded", timezone.localdate())
