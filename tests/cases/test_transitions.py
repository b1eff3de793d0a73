"""Lifecycle services: each one's guard, event row and deadline effects.

Times are fixed in spring 2026 (``on(month, day)``, Asia/Shanghai) so every due date below is a
literal read off the official calendar, not recomputed with the code under test.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import World, checked_draft, registration
from xinfang.cases import handling as H
from xinfang.cases import services as S
from xinfang.cases.models import (
    OBLIGATION_KINDS,
    Case,
    CaseEvent,
    Deadline,
    DeadlineKind,
    ExtensionRequest,
    Status,
)
from xinfang.cases.policy import allowed_actions, cases_visible_to, may
from xinfang.cases.registration import case_register
from xinfang.cases.transitions import ACTIONS
from xinfang.core.errors import DomainError, PermissionDenied, TransitionNotAllowed

K = DeadlineKind
SH = ZoneInfo("Asia/Shanghai")
REPLY_TEXT = "经调查核实，物业费调整程序不合规，已责令整改。"


def on(month: int, day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=SH)


def d(month: int, day: int) -> dt.date:
    return dt.date(2026, month, day)


def deadline(case: Case, kind: str, *, open_only: bool = True) -> Deadline:
    qs = Deadline.objects.filter(case=case, kind=kind)
    if open_only:
        qs = qs.filter(met_at__isnull=True, cancelled_at__isnull=True)
    return qs.get()


def open_kinds(case: Case) -> list[str]:
    return sorted(
        Deadline.objects.filter(
            case=case, met_at__isnull=True, cancelled_at__isnull=True
        ).values_list("kind", flat=True)
    )


# Rows an action may append after its own (features add theirs).
CONSEQUENCE_KINDS = frozenset({"extension_notice", "followup_plan", "dissatisfied_task"})


def last_event(case: Case) -> CaseEvent:
    """The last action's own row (not rows recorded as its consequences, e.g. 回访 planned)."""
    rows = CaseEvent.objects.filter(case=case).exclude(kind__in=CONSEQUENCE_KINDS)
    event = rows.order_by("-id").first()
    assert event is not None
    return event


# The standard path, one step per state, at fixed times. Received Mon 2026-03-02.
def _steps(w: World) -> dict[str, Callable[[Case], Any]]:
    return {
        "assign": lambda c: S.case_assign(
            case=c, by=w.alice, unit=w.street, note="请核查", at=on(3, 3)
        ),
        "sign_in": lambda c: S.case_sign_in(case=c, by=w.hank, at=on(3, 3, 15)),
        "accept": lambda c: S.case_accept(
            case=c, by=w.hank, notice_text="经审查，决定受理。", at=on(3, 4)
        ),
        "reply": lambda c: S.case_reply(
            case=c,
            draft=checked_draft(c),
            by=w.uma,
            text=REPLY_TEXT,
            served_on=d(3, 20),
            method="in_person",
            at=on(3, 20),
        ),
        "evaluate": lambda c: S.case_evaluate(
            case=c, by=w.rita, evaluation="satisfied", at=on(3, 21)
        ),
        "close": lambda c: S.case_close(case=c, by=w.alice, note="已办结", at=on(3, 22)),
        "request_review": lambda c: S.case_request_review(
            case=c, by=w.rita, reason="对答复不服，请求复查", at=on(3, 25)
        ),
        "decide_review": lambda c: S.case_decide_review(
            case=c, by=w.alice, text="经复查，维持原答复意见，理由如下。", at=on(4, 10)
        ),
        "request_rereview": lambda c: S.case_request_rereview(
            case=c, by=w.rita, reason="对复查意见不服", at=on(4, 15)
        ),
        "decide_rereview": lambda c: S.case_decide_rereview(
            case=c, by=w.alice, text="经复核，维持复查意见，本事项终结。", at=on(5, 8)
        ),
    }


PATHS: dict[str, list[str]] = {
    Status.REGISTERED: [],
    Status.ASSIGNED: ["assign"],
    Status.SIGNED: ["assign", "sign_in"],
    Status.ACCEPTED: ["assign", "sign_in", "accept"],
    Status.REPLIED: ["assign", "sign_in", "accept", "reply"],
    Status.EVALUATED: ["assign", "sign_in", "accept", "reply", "evaluate"],
    Status.CLOSED: ["assign", "sign_in", "accept", "reply", "evaluate", "close"],
    Status.REVIEW_REQUESTED: ["assign", "sign_in", "accept", "reply", "request_review"],
    Status.REVIEWED: ["assign", "sign_in", "accept", "reply", "request_review", "decide_review"],
    Status.REREVIEW_REQUESTED: [
        "assign",
        "sign_in",
        "accept",
        "reply",
        "request_review",
        "decide_review",
        "request_rereview",
    ],
}


@pytest.fixture
def new_case(world: World) -> Callable[[str], Case]:
    steps = _steps(world)

    def _make(status: str = Status.REGISTERED) -> Case:
        case = case_register(
            by=world.rita,
            office=world.office,
            reg=registration(received_at=on(3, 2, 9)),
            at=on(3, 2),
        )
        for code in PATHS[status]:
            steps[code](case)
        case.refresh_from_db()
        assert case.status == status
        return case

    return _make


NewCase = Callable[[str], Case]


# --- guards: who -------------------------------------------------------------------------

WRONG_ACTORS: list[tuple[str, str, list[str]]] = [
    # (state, action, users who may not do it)
    (Status.REGISTERED, "assign", ["rita", "hank", "uma", "bob", "leo", "sam"]),
    (Status.REGISTERED, "forward", ["rita", "hank", "leo"]),
    (Status.REGISTERED, "inform", ["hank", "bob", "leo", "sam"]),
    (Status.ASSIGNED, "sign_in", ["alice", "rita", "bob", "leo", "sam"]),
    (Status.SIGNED, "accept", ["alice", "bob", "leo"]),
    (Status.SIGNED, "refuse", ["alice", "bob"]),
    (Status.ACCEPTED, "return", ["alice", "rita", "bob", "leo"]),
    (Status.ACCEPTED, "reply", ["alice", "bob", "leo"]),
    (Status.REPLIED, "evaluate", ["hank", "uma", "leo"]),
    (Status.EVALUATED, "close", ["rita", "hank", "leo"]),
    (Status.REPLIED, "request_review", ["hank", "leo", "sam"]),
    (Status.REVIEW_REQUESTED, "decide_review", ["rita", "hank", "leo"]),
    (Status.REVIEWED, "request_rereview", ["hank", "bob"]),
    (Status.REREVIEW_REQUESTED, "decide_rereview", ["rita", "hank", "leo"]),
]


def call(code: str, case: Case, by: Any, w: World, at: dt.datetime | None = None) -> Any:
    """Each service with plausible arguments (the only thing wrong is who or when)."""
    calls: dict[str, Callable[[], Any]] = {
        "assign": lambda: S.case_assign(case=case, by=by, unit=w.street, at=at),
        "forward": lambda: S.case_forward(case=case, by=by, unit=w.street, at=at),
        "inform": lambda: S.case_inform(
            case=case, by=by, reason="属于诉讼程序，请向法院反映", at=at
        ),
        "sign_in": lambda: S.case_sign_in(case=case, by=by, at=at),
        "accept": lambda: S.case_accept(case=case, by=by, notice_text="决定受理。", at=at),
        "refuse": lambda: S.case_refuse(case=case, by=by, notice_text="不属于本单位职权", at=at),
        "return": lambda: S.case_return(case=case, by=by, reason="不属于本单位职责", at=at),
        "request_extension": lambda: S.case_request_extension(
            case=case, by=by, days=10, reason="情况复杂需调查", at=at
        ),
        "decide_extension": lambda: S.case_decide_extension(case=case, by=by, approve=True, at=at),
        "reply": lambda: S.case_reply(
            case=case,
            draft=checked_draft(case),
            by=by,
            text=REPLY_TEXT,
            served_on=d(4, 1),
            method="post",
            at=at or on(4, 1),
        ),
        "evaluate": lambda: S.case_evaluate(case=case, by=by, evaluation="basically", at=at),
        "close": lambda: S.case_close(case=case, by=by, at=at),
        # cases.handling: 合并 into another (new) case, 转办 to 西山街道
        "merge": lambda: H.case_merge(
            case=case, by=by, into=Case.objects.exclude(pk=case.pk).first() or case, at=at
        ),
        "transfer": lambda: H.case_transfer(
            case=case, by=by, unit=w.sibling, reason="属西山街道管辖", at=at
        ),
        "request_review": lambda: S.case_request_review(
            case=case, by=by, reason="请求复查本事项", at=at or on(3, 26)
        ),
        "decide_review": lambda: S.case_decide_review(
            case=case, by=by, text="经复查，维持原答复意见。", at=at
        ),
        "request_rereview": lambda: S.case_request_rereview(
            case=case, by=by, reason="请求复核本事项", at=at or on(4, 11)
        ),
        "decide_rereview": lambda: S.case_decide_rereview(
            case=case, by=by, text="经复核，维持复查意见。", at=at
        ),
    }
    return calls[code]()


@pytest.mark.parametrize(
    ("status", "code", "who"),
    [(s, c, u) for s, c, users in WRONG_ACTORS for u in users],
)
def test_wrong_actor_is_refused_and_nothing_changes(
    world: World, new_case: NewCase, status: str, code: str, who: str
) -> None:
    case = new_case(status)
    events = CaseEvent.objects.filter(case=case).count()
    deadlines = list(Deadline.objects.filter(case=case).values())
    with pytest.raises(PermissionDenied) as err:
        call(code, case, getattr(world, who), world)
    assert f"「{ACTIONS[code].label}」" in err.value.message
    case.refresh_from_db()
    assert case.status == status
    assert CaseEvent.objects.filter(case=case).count() == events
    assert list(Deadline.objects.filter(case=case).values()) == deadlines


def test_permission_message_names_side_and_role(world: World, new_case: NewCase) -> None:
    case = new_case(Status.REGISTERED)
    with pytest.raises(PermissionDenied) as err:
        S.case_assign(case=case, by=world.rita, unit=world.street)
    assert err.value.message == "您没有权限执行「交办」：需要登记单位（信访机构）的办案员岗位"
    case = new_case(Status.ASSIGNED)
    with pytest.raises(PermissionDenied) as err:
        S.case_sign_in(case=case, by=world.bob)
    assert err.value.message == "您没有权限执行「签收」：需要承办单位的承办人、单位负责人岗位"


# --- guards: when ------------------------------------------------------------------------

WRONG_STATES: list[tuple[str, str, str]] = [
    # (state, action, the right kind of user)
    (Status.ASSIGNED, "assign", "alice"),
    (Status.ASSIGNED, "inform", "rita"),
    (Status.SIGNED, "sign_in", "hank"),
    (Status.ASSIGNED, "accept", "hank"),
    (Status.ACCEPTED, "refuse", "uma"),
    (Status.SIGNED, "reply", "hank"),
    (Status.SIGNED, "request_extension", "hank"),
    (Status.REGISTERED, "evaluate", "rita"),
    (Status.ACCEPTED, "close", "alice"),
    (Status.REGISTERED, "close", "alice"),
    (Status.ACCEPTED, "request_review", "rita"),
    (Status.REPLIED, "decide_review", "alice"),
    (Status.REPLIED, "request_rereview", "rita"),
    (Status.REVIEWED, "decide_rereview", "alice"),
    (Status.CLOSED, "assign", "alice"),
]


@pytest.mark.parametrize(("status", "code", "who"), WRONG_STATES)
def test_wrong_state_is_refused_with_a_chinese_message(
    world: World, new_case: NewCase, status: str, code: str, who: str
) -> None:
    case = new_case(status)
    events = CaseEvent.objects.filter(case=case).count()
    with pytest.raises(TransitionNotAllowed) as err:
        call(code, case, getattr(world, who), world)
    label = Status(status).label
    assert err.value.message == f"当前状态为「{label}」，不能执行「{ACTIONS[code].label}」"
    case.refresh_from_db()
    assert case.status == status
    assert CaseEvent.objects.filter(case=case).count() == events


def test_final_case_accepts_no_action(world: World, new_case: NewCase) -> None:
    case = new_case(Status.REREVIEW_REQUESTED)
    S.case_decide_rereview(case=case, by=world.alice, text="经复核，维持复查意见。", at=on(5, 8))
    for code, action in ACTIONS.items():
        assert Status.FINAL not in action.from_states
        who = world.alice if action.side == "office" else world.hank
        with pytest.raises(DomainError):
            call(code, case, who, world)


# --- event rows ----------------------------------------------------------------------------

EVENTS: list[tuple[str, str, str, str, str, str]] = [
    # (path to, action, actor, actor unit, from, to)
    (Status.ASSIGNED, "assign", "alice", "office", Status.REGISTERED, Status.ASSIGNED),
    (Status.SIGNED, "sign_in", "hank", "street", Status.ASSIGNED, Status.SIGNED),
    (Status.ACCEPTED, "accept", "hank", "street", Status.SIGNED, Status.ACCEPTED),
    (Status.REPLIED, "reply", "uma", "street", Status.ACCEPTED, Status.REPLIED),
    (Status.EVALUATED, "evaluate", "rita", "office", Status.REPLIED, Status.EVALUATED),
    (Status.CLOSED, "close", "alice", "office", Status.EVALUATED, Status.CLOSED),
    (
        Status.REVIEW_REQUESTED,
        "request_review",
        "rita",
        "office",
        Status.REPLIED,
        Status.REVIEW_REQUESTED,
    ),
    (
        Status.REVIEWED,
        "decide_review",
        "alice",
        "office",
        Status.REVIEW_REQUESTED,
        Status.REVIEWED,
    ),
    (
        Status.REREVIEW_REQUESTED,
        "request_rereview",
        "rita",
        "office",
        Status.REVIEWED,
        Status.REREVIEW_REQUESTED,
    ),
]

EVENT_TEXT = {
    "assign": "请核查",
    "sign_in": "",
    "accept": "经审查，决定受理。",
    "reply": REPLY_TEXT,
    "evaluate": "",
    "close": "已办结",
    "request_review": "对答复不服，请求复查",
    "decide_review": "经复查，维持原答复意见，理由如下。",
    "request_rereview": "对复查意见不服",
}


@pytest.mark.parametrize(("status", "code", "who", "unit", "frm", "to"), EVENTS)
def test_each_service_appends_its_event(
    world: World, new_case: NewCase, status: str, code: str, who: str, unit: str, frm: str, to: str
) -> None:
    case = new_case(status)
    event = last_event(case)
    assert event.kind == code
    assert event.actor == getattr(world, who)
    assert event.actor_unit == getattr(world, unit)
    assert (event.from_status, event.to_status) == (frm, to)
    assert event.text == EVENT_TEXT[code]
    steps = CaseEvent.objects.filter(case=case).exclude(kind__in=CONSEQUENCE_KINDS)
    assert steps.count() == len(PATHS[status]) + 1


def test_route_event_records_the_unit(world: World, new_case: NewCase) -> None:
    case = new_case(Status.ASSIGNED)
    assert last_event(case).data == {"unit_id": world.street.pk, "unit": "东湖街道"}
    assert case.handling_unit == world.street


def test_forward_is_routed_like_assign(world: World, new_case: NewCase) -> None:
    case = new_case(Status.REGISTERED)
    S.case_forward(case=case, by=world.alice, unit=world.street, at=on(3, 3))
    case.refresh_from_db()
    assert (case.status, case.handling_unit) == (Status.FORWARDED, world.street)
    assert last_event(case).kind == "forward"
    assert deadline(case, K.ACCEPT).due_on == d(3, 18)
    S.case_sign_in(case=case, by=world.hank, at=on(3, 4))
    assert Case.objects.get(pk=case.pk).status == Status.SIGNED


def test_route_to_inactive_unit_refused(world: World, new_case: NewCase) -> None:
    case = new_case(Status.REGISTERED)
    world.sibling.is_active = False
    world.sibling.save()
    with pytest.raises(DomainError) as err:
        S.case_assign(case=case, by=world.alice, unit=world.sibling)
    assert err.value.field == "unit"
    assert "已停用" in err.value.message


# --- deadlines -----------------------------------------------------------------------------


def test_route_deadline_is_fifteen_days_from_receipt(new_case: NewCase) -> None:
    case = new_case(Status.REGISTERED)
    route = deadline(case, K.ROUTE)
    assert (route.started_on, route.due_on) == (d(3, 2), d(3, 17))
    assert open_kinds(case) == [K.ROUTE]


def test_routing_meets_route_and_opens_accept_deadline(new_case: NewCase) -> None:
    case = new_case(Status.ASSIGNED)
    route = deadline(case, K.ROUTE, open_only=False)
    assert route.met_at == on(3, 3)
    accept = deadline(case, K.ACCEPT)
    assert (accept.started_on, accept.due_on) == (d(3, 3), d(3, 18))
    assert open_kinds(case) == [K.ACCEPT]


def test_sign_in_leaves_deadlines_alone(new_case: NewCase) -> None:
    case = new_case(Status.SIGNED)
    assert open_kinds(case) == [K.ACCEPT]


def test_accept_meets_accept_and_opens_sixty_day_handle_deadline(new_case: NewCase) -> None:
    case = new_case(Status.ACCEPTED)
    assert deadline(case, K.ACCEPT, open_only=False).met_at == on(3, 4)
    handle = deadline(case, K.HANDLE)
    # 03-04 + 60 days = Sun 05-03, inside the May Day holiday (05-01..05): rolls to Wed 05-06.
    assert (handle.started_on, handle.due_on) == (d(3, 4), d(5, 6))
    assert last_event(case).data == {"handle_due": "2026-05-06"}
    assert open_kinds(case) == [K.HANDLE]


def test_refuse_meets_accept_deadline(world: World, new_case: NewCase) -> None:
    case = new_case(Status.SIGNED)
    S.case_refuse(case=case, by=world.uma, notice_text="不属于本单位职权范围", at=on(3, 5))
    case.refresh_from_db()
    assert case.status == Status.REFUSED
    assert deadline(case, K.ACCEPT, open_only=False).met_at == on(3, 5)
    assert open_kinds(case) == []


def test_refuse_requires_notice(world: World, new_case: NewCase) -> None:
    case = new_case(Status.SIGNED)
    with pytest.raises(DomainError) as err:
        S.case_refuse(case=case, by=world.uma, notice_text=" 不行 ")
    assert err.value.field == "notice_text"


def test_inform_meets_route_deadline(world: World, new_case: NewCase) -> None:
    case = new_case(Status.REGISTERED)
    with pytest.raises(DomainError) as err:
        S.case_inform(case=case, by=world.rita, reason="不受理")
    assert err.value.field == "reason"
    S.case_inform(case=case, by=world.rita, reason="属于诉讼程序，请向法院反映", at=on(3, 5))
    case.refresh_from_db()
    assert case.status == Status.INFORMED
    assert last_event(case).text == "属于诉讼程序，请向法院反映"
    assert deadline(case, K.ROUTE, open_only=False).met_at == on(3, 5)
    assert open_kinds(case) == []


# --- return --------------------------------------------------------------------------------


def test_return_from_accepted(world: World, new_case: NewCase) -> None:
    case = new_case(Status.ACCEPTED)
    S.case_return(case=case, by=world.hank, reason="不属于本街道职责", at=on(3, 6))
    case.refresh_from_db()
    assert case.status == Status.RETURNED
    assert case.handling_unit is None
    event = last_event(case)
    assert (event.kind, event.actor, event.actor_unit) == ("return", world.hank, world.street)
    assert (event.from_status, event.to_status) == (Status.ACCEPTED, Status.RETURNED)
    assert event.text == "不属于本街道职责"
    assert event.data == {"unit_id": world.street.pk, "unit": "东湖街道"}
    handle = deadline(case, K.HANDLE, open_only=False)
    assert handle.cancelled_at == on(3, 6)
    assert handle.met_at is None
    route = deadline(case, K.ROUTE)  # the new one: the office must route again
    assert (route.started_on, route.due_on) == (d(3, 6), d(3, 23))  # Sat 03-21 → Mon 03-23
    assert open_kinds(case) == [K.ROUTE]


def test_return_from_assigned_cancels_accept_deadline(world: World, new_case: NewCase) -> None:
    case = new_case(Status.ASSIGNED)
    S.case_return(case=case, by=world.uma, reason="应由西山街道办理", at=on(3, 4))
    assert deadline(case, K.ACCEPT, open_only=False).cancelled_at == on(3, 4)
    assert open_kinds(case) == [K.ROUTE]


def test_return_requires_reason(world: World, new_case: NewCase) -> None:
    case = new_case(Status.SIGNED)
    with pytest.raises(DomainError) as err:
        S.case_return(case=case, by=world.hank, reason="不对")
    assert err.value.field == "reason"


def test_returned_case_can_be_routed_again(world: World, new_case: NewCase) -> None:
    case = new_case(Status.SIGNED)
    S.case_return(case=case, by=world.hank, reason="应由西山街道办理", at=on(3, 4))
    case.refresh_from_db()
    with pytest.raises(PermissionDenied):  # no longer the handling unit
        S.case_accept(case=case, by=world.hank, notice_text="决定受理。")
    S.case_assign(case=case, by=world.alice, unit=world.sibling, at=on(3, 5))
    S.case_sign_in(case=case, by=world.bob, at=on(3, 5, 14))
    case.refresh_from_db()
    assert (case.status, case.handling_unit) == (Status.SIGNED, world.sibling)
    assert open_kinds(case) == [K.ACCEPT]
    assert Deadline.objects.filter(case=case, kind=K.ROUTE).count() == 2


def test_return_denies_a_pending_extension(world: World, new_case: NewCase) -> None:
    case = new_case(Status.ACCEPTED)
    S.case_request_extension(case=case, by=world.uma, days=10, reason="情况复杂需调查")
    S.case_return(case=case, by=world.uma, reason="不属于本街道职责")
    request = ExtensionRequest.objects.get(case=case)
    assert request.state == ExtensionRequest.State.DENIED
    assert request.decision_note == "事项已退回"


# --- extensions ----------------------------------------------------------------------------


def test_extension_request_event_and_pending_row(world: World, new_case: NewCase) -> None:
    case = new_case(Status.ACCEPTED)
    S.case_request_extension(
        case=case, by=world.uma, days=30, reason="涉及多部门需协调", at=on(4, 20)
    )
    case.refresh_from_db()
    assert case.status == Status.ACCEPTED
    event = last_event(case)
    assert (event.kind, event.actor, event.actor_unit) == (
        "request_extension",
        world.uma,
        world.street,
    )
    assert (event.from_status, event.to_status) == (Status.ACCEPTED, Status.ACCEPTED)
    assert (event.text, event.data) == ("涉及多部门需协调", {"days": 30})
    request = ExtensionRequest.objects.get(case=case)
    assert (request.state, request.days, request.requested_by) == ("pending", 30, world.uma)
    assert deadline(case, K.HANDLE).due_on == d(5, 6)  # unchanged until approved


@pytest.mark.parametrize("days", [0, 31, 60])
def test_extension_outside_one_to_thirty_days_refused(
    world: World, new_case: NewCase, days: int
) -> None:
    case = new_case(Status.ACCEPTED)
    with pytest.raises(DomainError) as err:
        S.case_request_extension(case=case, by=world.uma, days=days, reason="情况复杂需调查")
    assert err.value.message == "延长天数应为1至30天"
    assert err.value.field == "days"
    assert not ExtensionRequest.objects.exists()


def test_approved_extension_moves_handle_deadline(world: World, new_case: NewCase) -> None:
    case = new_case(Status.ACCEPTED)
    S.case_request_extension(case=case, by=world.uma, days=30, reason="涉及多部门需协调")
    S.case_decide_extension(case=case, by=world.alice, approve=True, at=on(4, 22))
    # 60 + 30 days from Wed 03-04 = Tue 06-02.
    assert deadline(case, K.HANDLE).due_on == d(6, 2)
    event = case.events.get(kind="decide_extension")  # then the 延期告知 (xinfang.notify)
    assert (event.kind, event.actor, event.actor_unit) == (
        "decide_extension",
        world.alice,
        world.office,
    )
    assert event.text == "批准延期30日。延期理由：涉及多部门需协调"
    assert event.data == {"approved": True, "days": 30, "handle_due": "2026-06-02"}
    request = ExtensionRequest.objects.get(case=case)
    assert (request.state, request.decided_by) == ("approved", world.alice)
    with pytest.raises(DomainError) as err:
        S.case_request_extension(case=case, by=world.uma, days=5, reason="再延长一次")
    assert "只能延长一次" in err.value.message


def test_second_request_while_one_is_pending_refused(world: World, new_case: NewCase) -> None:
    case = new_case(Status.ACCEPTED)
    S.case_request_extension(case=case, by=world.uma, days=10, reason="情况复杂需调查")
    with pytest.raises(DomainError):
        S.case_request_extension(case=case, by=world.hank, days=10, reason="情况复杂需调查")
    assert ExtensionRequest.objects.filter(case=case).count() == 1


def test_denied_extension_keeps_due_date_and_allows_a_new_request(
    world: World, new_case: NewCase
) -> None:
    case = new_case(Status.ACCEPTED)
    S.case_request_extension(case=case, by=world.uma, days=10, reason="情况复杂需调查")
    with pytest.raises(DomainError) as err:
        S.case_decide_extension(case=case, by=world.alice, approve=False, note=" ")
    assert err.value.field == "note"
    S.case_decide_extension(case=case, by=world.alice, approve=False, note="理由不充分")
    assert deadline(case, K.HANDLE).due_on == d(5, 6)
    assert last_event(case).text == "不批准延期：理由不充分"
    S.case_request_extension(case=case, by=world.uma, days=10, reason="补充理由后再次申请")
    assert ExtensionRequest.objects.filter(case=case, state="pending").count() == 1


def test_decide_extension_without_pending_request_refused(world: World, new_case: NewCase) -> None:
    case = new_case(Status.ACCEPTED)
    with pytest.raises(DomainError) as err:
        S.case_decide_extension(case=case, by=world.alice, approve=True)
    assert err.value.message == "没有待审批的延期申请"


def test_handling_unit_cannot_approve_its_own_extension(world: World, new_case: NewCase) -> None:
    case = new_case(Status.ACCEPTED)
    S.case_request_extension(case=case, by=world.hank, days=10, reason="情况复杂需调查")
    with pytest.raises(PermissionDenied):
        S.case_decide_extension(case=case, by=world.uma, approve=True)
    assert deadline(case, K.HANDLE).due_on == d(5, 6)  # the tentative move was rolled back
    assert ExtensionRequest.objects.get(case=case).state == "pending"


def test_extension_after_return_moves_the_open_handle_deadline(
    world: World, new_case: NewCase
) -> None:
    case = new_case(Status.ACCEPTED)
    S.case_return(case=case, by=world.hank, reason="不属于本街道职责", at=on(3, 6))
    S.case_assign(case=case, by=world.alice, unit=world.street, at=on(3, 9))
    S.case_sign_in(case=case, by=world.hank, at=on(3, 9, 15))
    S.case_accept(case=case, by=world.hank, notice_text="重新受理。", at=on(3, 10))
    # 03-10 + 60 = Sat 05-09, a make-up workday for May Day: stays.
    assert deadline(case, K.HANDLE).due_on == d(5, 9)
    S.case_request_extension(case=case, by=world.hank, days=20, reason="情况复杂需调查")
    S.case_decide_extension(case=case, by=world.alice, approve=True)
    # 03-10 + 80 = Fri 05-29.
    assert deadline(case, K.HANDLE).due_on == d(5, 29)
    cancelled = Deadline.objects.get(case=case, kind=K.HANDLE, cancelled_at__isnull=False)
    assert cancelled.due_on == d(5, 6)


# --- reply and the review windows ------------------------------------------------------------


def test_reply_meets_handle_and_opens_review_window(world: World, new_case: NewCase) -> None:
    case = new_case(Status.REPLIED)
    assert case.served_at == d(3, 20)
    assert deadline(case, K.HANDLE, open_only=False).met_at == on(3, 20)
    window = deadline(case, K.REVIEW_REQUEST)
    # Served Fri 03-20; +30 = Sun 04-19 → Mon 04-20.
    assert (window.started_on, window.due_on) == (d(3, 20), d(4, 20))
    data = case.events.get(kind="reply").data
    assert {k: data[k] for k in ("served_on", "method")} == {
        "served_on": "2026-03-20",
        "method": "in_person",
    }
    assert data["draft_id"] == case.reply_drafts.get().pk  # the checked 答复意见书 it served
    assert open_kinds(case) == [K.REVIEW_REQUEST]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"text": "太短"}, "text"),
        ({"method": "pigeon"}, "method"),
        ({"served_on": dt.date(2026, 3, 21)}, "served_on"),  # after "today" (at)
        ({"served_on": dt.date(2026, 3, 1)}, "served_on"),  # before receipt
    ],
)
def test_reply_field_rules(
    world: World, new_case: NewCase, kwargs: dict[str, Any], field: str
) -> None:
    case = new_case(Status.ACCEPTED)
    values: dict[str, Any] = {
        "text": REPLY_TEXT,
        "served_on": d(3, 20),
        "method": "post",
        "at": on(3, 20),
    }
    values.update(kwargs)
    with pytest.raises(DomainError) as err:
        S.case_reply(case=case, by=world.hank, **values)
    assert err.value.field == field
    assert Case.objects.get(pk=case.pk).status == Status.ACCEPTED


def test_review_request_on_the_last_day_of_the_window(world: World, new_case: NewCase) -> None:
    case = new_case(Status.REPLIED)
    S.case_request_review(case=case, by=world.rita, reason="对答复不服", at=on(4, 20, 23))
    case.refresh_from_db()
    assert case.status == Status.REVIEW_REQUESTED
    assert deadline(case, K.REVIEW_REQUEST, open_only=False).met_at == on(4, 20, 23)
    decide = deadline(case, K.REVIEW_DECIDE)
    assert (decide.started_on, decide.due_on) == (d(4, 20), d(5, 20))
    assert open_kinds(case) == [K.REVIEW_DECIDE]


def test_review_request_after_the_window_refused(world: World, new_case: NewCase) -> None:
    case = new_case(Status.REPLIED)
    with pytest.raises(DomainError) as err:
        S.case_request_review(case=case, by=world.rita, reason="对答复不服", at=on(4, 21))
    assert err.value.message == (
        "复查申请期限已于2026年04月20日届满（2026年03月20日送达，自送达之日起30日），不能再提出"
    )
    assert Case.objects.get(pk=case.pk).status == Status.REPLIED
    assert open_kinds(case) == [K.REVIEW_REQUEST]


def test_review_request_without_a_served_reply_refused(world: World, new_case: NewCase) -> None:
    case = new_case(Status.REGISTERED)
    S.case_inform(case=case, by=world.rita, reason="属于诉讼程序，请向法院反映")
    S.case_close(case=case, by=world.alice)
    case.refresh_from_db()
    with pytest.raises(DomainError) as err:
        S.case_request_review(case=case, by=world.rita, reason="对告知不服")
    assert "没有可以提出复查申请的期限" in err.value.message
    assert Case.objects.get(pk=case.pk).status == Status.CLOSED


def test_review_may_be_requested_after_closing(world: World, new_case: NewCase) -> None:
    case = new_case(Status.CLOSED)
    assert case.closed_at == on(3, 22)
    assert open_kinds(case) == [K.REVIEW_REQUEST]  # the petitioner's window survives closing
    S.case_request_review(case=case, by=world.rita, reason="对答复不服", at=on(4, 1))
    assert Case.objects.get(pk=case.pk).status == Status.REVIEW_REQUESTED


def test_decide_review_opens_rereview_window(new_case: NewCase) -> None:
    case = new_case(Status.REVIEWED)
    assert deadline(case, K.REVIEW_DECIDE, open_only=False).met_at == on(4, 10)
    window = deadline(case, K.REREVIEW_REQUEST)
    assert (window.started_on, window.due_on) == (d(4, 10), d(5, 11))  # Sun 05-10 → Mon 05-11
    assert open_kinds(case) == [K.REREVIEW_REQUEST]


def test_rereview_request_after_the_window_refused(world: World, new_case: NewCase) -> None:
    case = new_case(Status.REVIEWED)
    with pytest.raises(DomainError) as err:
        S.case_request_rereview(case=case, by=world.rita, reason="对复查意见不服", at=on(5, 12))
    assert "复核申请期限已于2026年05月11日届满" in err.value.message


def test_decide_rereview_makes_the_case_final(world: World, new_case: NewCase) -> None:
    case = new_case(Status.REREVIEW_REQUESTED)
    assert deadline(case, K.REREVIEW_DECIDE).due_on == d(5, 15)
    S.case_decide_rereview(
        case=case, by=world.alice, text="经复核，维持复查意见，本事项终结。", at=on(5, 8)
    )
    case.refresh_from_db()
    assert case.status == Status.FINAL
    assert case.closed_at == on(5, 8)
    assert not case.is_open
    event = last_event(case)
    assert (event.kind, event.from_status, event.to_status) == (
        "decide_rereview",
        Status.REREVIEW_REQUESTED,
        Status.FINAL,
    )
    assert deadline(case, K.REREVIEW_DECIDE, open_only=False).met_at == on(5, 8)
    assert open_kinds(case) == []


def test_close_cancels_obligations_but_keeps_windows(world: World, new_case: NewCase) -> None:
    case = new_case(Status.REVIEWED)
    S.case_close(case=case, by=world.alice, at=on(4, 12))
    case.refresh_from_db()
    assert case.status == Status.CLOSED
    assert not Deadline.objects.filter(
        case=case, kind__in=OBLIGATION_KINDS, met_at__isnull=True, cancelled_at__isnull=True
    ).exists()
    assert open_kinds(case) == [K.REREVIEW_REQUEST]
    S.case_request_rereview(case=case, by=world.rita, reason="对复查意见不服", at=on(4, 13))
    assert Case.objects.get(pk=case.pk).status == Status.REREVIEW_REQUESTED


# --- who sees and who acts ------------------------------------------------------------------


def test_sibling_unit_cannot_sign_in_or_see(world: World, new_case: NewCase) -> None:
    case = new_case(Status.ASSIGNED)
    assert not cases_visible_to(world.bob).filter(pk=case.pk).exists()
    with pytest.raises(PermissionDenied):
        S.case_sign_in(case=case, by=world.bob)
    S.case_sign_in(case=case, by=world.hank)
    assert Case.objects.get(pk=case.pk).status == Status.SIGNED


def test_leader_sees_but_cannot_act(world: World, new_case: NewCase) -> None:
    for status in (Status.REGISTERED, Status.ASSIGNED, Status.ACCEPTED, Status.REPLIED):
        case = new_case(status)
        assert cases_visible_to(world.leo).filter(pk=case.pk).exists()
        assert allowed_actions(world.leo, case) == []
        assert not any(may(world.leo, code, case) for code in ACTIONS)


def test_sysadmin_sees_nothing_and_cannot_act(world: World, new_case: NewCase) -> None:
    case = new_case(Status.ASSIGNED)
    assert not cases_visible_to(world.sam).exists()
    assert allowed_actions(world.sam, case) == []
    with pytest.raises(PermissionDenied):
        S.case_sign_in(case=case, by=world.sam)


def test_allowed_actions_follow_side_and_state(world: World, new_case: NewCase) -> None:
    case = new_case(Status.ACCEPTED)
    assert {a.code for a in allowed_actions(world.hank, case)} == {
        "return",
        "request_extension",
        "reply",
    }
    # nothing to approve yet; 合并/转办 (cases.handling) are the office's at any handling state
    assert {a.code for a in allowed_actions(world.alice, case)} == {"merge", "transfer"}
    assert allowed_actions(world.rita, case) == []
    S.case_request_extension(case=case, by=world.uma, days=10, reason="情况复杂需调查")
    assert {a.code for a in allowed_actions(world.hank, case)} == {"return", "reply"}
    assert {a.code for a in allowed_actions(world.alice, case)} == {
        "decide_extension",
        "merge",
        "transfer",
    }


def test_note_is_an_event_without_state_change(world: World, new_case: NewCase) -> None:
    case = new_case(Status.ASSIGNED)
    S.case_add_note(case=case, by=world.hank, text="已电话联系信访人")
    event = last_event(case)
    assert (event.kind, event.from_status, event.to_status) == (
        "note",
        Status.ASSIGNED,
        Status.ASSIGNED,
    )
    with pytest.raises(PermissionDenied):
        S.case_add_note(case=case, by=world.bob, text="不相干的备注")
