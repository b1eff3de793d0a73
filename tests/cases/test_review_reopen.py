"""A 复查/复核 request reopens a closed case: it is open again, so it has no 办结时间."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from tests.conftest import World, checked_draft, registration
from xinfang.cases import services as S
from xinfang.cases.models import Case, Status
from xinfang.cases.registration import case_register

SH = ZoneInfo("Asia/Shanghai")
REPLY = "经调查核实，物业费调整程序不合规，已责令整改。"


def on(month: int, day: int) -> dt.datetime:
    return dt.datetime(2026, month, day, 10, tzinfo=SH)


def closed_case(world: World) -> Case:
    case = case_register(
        by=world.rita,
        office=world.office,
        reg=registration(received_at=on(3, 2) - dt.timedelta(hours=1)),
        at=on(3, 2),
    )
    S.case_assign(case=case, by=world.alice, unit=world.street, at=on(3, 3))
    S.case_sign_in(case=case, by=world.hank, at=on(3, 3))
    S.case_accept(case=case, by=world.hank, notice_text="经审查，决定受理。", at=on(3, 4))
    S.case_reply(
        case=case,
        draft=checked_draft(case),
        by=world.uma,
        text=REPLY,
        served_on=dt.date(2026, 3, 20),
        method="post",
        at=on(3, 20),
    )
    S.case_close(case=case, by=world.alice, at=on(3, 22))
    case.refresh_from_db()
    assert (case.status, case.closed_at) == (Status.CLOSED, on(3, 22))
    return case


def test_review_request_clears_closed_at(world: World) -> None:
    case = closed_case(world)
    S.case_request_review(case=case, by=world.rita, reason="对答复不服，请求复查", at=on(3, 25))
    assert case.closed_at is None  # the object the caller holds
    case.refresh_from_db()
    assert (case.status, case.closed_at) == (Status.REVIEW_REQUESTED, None)
    assert case.is_open


def test_rereview_request_after_closing_again_clears_closed_at(world: World) -> None:
    case = closed_case(world)
    S.case_request_review(case=case, by=world.rita, reason="对答复不服，请求复查", at=on(3, 25))
    S.case_decide_review(
        case=case, by=world.alice, text="经复查，维持原答复意见，理由如下。", at=on(4, 10)
    )
    S.case_close(case=case, by=world.alice, at=on(4, 12))
    case.refresh_from_db()
    assert case.closed_at == on(4, 12)
    S.case_request_rereview(case=case, by=world.rita, reason="对复查意见不服", at=on(4, 15))
    case.refresh_from_db()
    assert (case.status, case.closed_at) == (Status.REREVIEW_REQUESTED, None)
    S.case_decide_rereview(
        case=case, by=world.alice, text="经复核，维持复查意见，本事项终结。", at=on(5, 8)
    )
    case.refresh_from_db()
    assert (case.status, case.closed_at) == (Status.FINAL, on(5, 8))
