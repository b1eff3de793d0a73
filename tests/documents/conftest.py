"""Events of every document kind on cases of the shared world (tests/conftest.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from tests.conftest import World, reply_case
from xinfang.cases import services as S
from xinfang.cases.models import Case, CaseEvent


def add_event(case: Case, kind: str, data: dict[str, Any], text: str = "", by: Any = None) -> Any:
    """An event as the other modules record it (sweeps, notices, instructions)."""
    return CaseEvent.objects.create(
        case=case, kind=kind, actor=by, at=timezone.now(), text=text, data=data
    )


@pytest.fixture
def events(world: World, register: Any) -> dict[str, CaseEvent]:
    """One event of each kind that has a document."""
    out: dict[str, CaseEvent] = {}
    assigned = register(summary="反映小区物业费上涨问题")
    out["assign"] = S.case_assign(
        case=assigned, by=world.alice, unit=world.street, note="请依法办理"
    )
    forwarded = register(summary="反映道路破损")
    out["forward"] = S.case_forward(case=forwarded, by=world.alice, unit=world.street)
    informed = register(summary="反映法院判决不公")
    out["inform"] = S.case_inform(
        case=informed, by=world.rita, reason="属于涉法涉诉事项，请向人民法院反映。"
    )
    # 受理告知书 / 不予受理告知书 (issue 5, helper H3).
    accepted = register(summary="反映楼道照明损坏")
    S.case_assign(case=accepted, by=world.alice, unit=world.street)
    S.case_sign_in(case=accepted, by=world.hank)
    out["accept"] = S.case_accept(case=accepted, by=world.hank, notice_text="经审查，决定受理。")
    refused = register(summary="反映已起诉的合同纠纷")
    S.case_assign(case=refused, by=world.alice, unit=world.street)
    S.case_sign_in(case=refused, by=world.hank)
    out["refuse"] = S.case_refuse(
        case=refused, by=world.hank, notice_text="该事项已进入诉讼程序，请向人民法院反映。"
    )
    replied = reply_case(
        world, register(summary="反映拖欠工资"), "经调查核实，已督促用人单位支付工资。"
    )
    out["reply"] = replied.events.get(kind="reply")
    out["decide_review"] = _review(world, replied)
    S.case_request_rereview(case=replied, by=world.rita, reason="对复查意见不服，请求复核")
    out["decide_rereview"] = S.case_decide_rereview(
        case=replied, by=world.alice, text="经复核，维持复查意见，本意见为终结意见。"
    )
    late = register(summary="反映噪音扰民", received_at=timezone.now() - dt.timedelta(days=3))
    S.case_assign(case=late, by=world.alice, unit=world.street)
    accept_due = late.deadlines.get(kind="accept").due_on
    out["supervise"] = add_event(
        late,
        "supervise",
        {
            "rule_id": 1,
            "stage": "supervise",
            "deadline_kind": "accept",
            "due_on": accept_due.isoformat(),
            "days_overdue": 3,
            "unit_id": world.street.pk,
            "unit": world.street.name,
            "recipients": [world.uma.pk],
        },
    )
    out["urge"] = add_event(
        late,
        "urge",
        {
            "deadline_kind": "accept",
            "due_on": accept_due.isoformat(),
            "days_overdue": 0,
            "unit_id": world.street.pk,
            "unit": world.street.name,
        },
    )
    out["instruction_urge"] = add_event(
        late,
        "instruction_urge",
        {
            "instruction_id": 1,
            "due_on": accept_due.isoformat(),
            "days_overdue": 2,
            "unit_id": world.street.pk,
            "unit": world.street.name,
        },
        by=world.leo,
    )
    out["extension_notice"] = add_event(
        late, "extension_notice", {"days": 30, "handle_due": "2026-12-31", "channel": "letter"}
    )
    return out


def _review(world: World, case: Case) -> CaseEvent:
    S.case_request_review(case=case, by=world.rita, reason="对答复意见不服，请求复查")
    return S.case_decide_review(
        case=case, by=world.alice, text="经复查，原答复意见正确，予以维持。"
    )
