"""Random sequences of lifecycle actions never reach an illegal state.

Each example registers a fresh case and applies a list of steps through the services. A step is
an action (or "the i-th action the graph allows from here", which lets short lists reach the
review stages), an actor ("auto" = somebody on the right side, or a named user who may be wrong)
and a variant that picks among plausible arguments. Domain errors are expected; the invariants
are checked after every step.
"""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Any

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

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
from xinfang.cases.policy import may
from xinfang.cases.registration import case_register
from xinfang.cases.transitions import ACTIONS, actions_from
from xinfang.core.errors import DomainError
from xinfang.replies.models import ReplyDraft

K = DeadlineKind
ACTION_CODES = [*ACTIONS, "note"]
ACTORS = ["alice", "rita", "hank", "uma", "bob", "leo"]

# The one obligation that must be open in each state (none in the others).
OBLIGATION_OF: dict[str, str] = {
    Status.REGISTERED: K.ROUTE,
    Status.RETURNED: K.ROUTE,
    Status.ASSIGNED: K.ACCEPT,
    Status.FORWARDED: K.ACCEPT,
    Status.SIGNED: K.ACCEPT,
    Status.ACCEPTED: K.HANDLE,
    Status.REVIEW_REQUESTED: K.REVIEW_DECIDE,
    Status.REREVIEW_REQUESTED: K.REREVIEW_DECIDE,
}
ROUTED = {Status.ASSIGNED, Status.FORWARDED, Status.SIGNED, Status.ACCEPTED}

# The main road: what usually happens next in each state (``NEXT`` in a step).
NEXT = "next"
MAIN_ROAD: dict[str, str] = {
    Status.REGISTERED: "assign",
    Status.RETURNED: "assign",
    Status.ASSIGNED: "sign_in",
    Status.FORWARDED: "sign_in",
    Status.SIGNED: "accept",
    Status.ACCEPTED: "reply",
    Status.REPLIED: "request_review",
    Status.EVALUATED: "close",
    Status.CLOSED: "request_review",
    Status.REVIEW_REQUESTED: "decide_review",
    Status.REVIEWED: "request_rereview",
    Status.REREVIEW_REQUESTED: "decide_rereview",
    Status.INFORMED: "close",
    Status.REFUSED: "close",
}

Step = tuple[str | int, str, int]


def _decode_pick(n: int) -> str | int:
    if n < 20:
        return ACTION_CODES[n % len(ACTION_CODES)]
    if n < 40:
        return n - 20
    return NEXT


steps_strategy = st.lists(
    st.tuples(
        # 20 % any action, 20 % "an action the graph allows from here", 60 % "the main road
        # onward": short lists still get past the first steps and into the review stages.
        st.integers(0, 99).map(_decode_pick),
        st.sampled_from(["auto"] * 12 + ACTORS),
        st.integers(0, 3),
    ),
    min_size=4,
    max_size=25,
)


def _actor(w: World, case: Case, code: str, who: str, variant: int) -> Any:
    if who != "auto":
        return getattr(w, who)
    if code == "note" or ACTIONS[code].side == "handling":
        if case.handling_unit_id == w.sibling.pk:
            return w.bob
        return w.uma if variant % 2 else w.hank
    return w.rita if variant == 2 else w.alice


def _apply(w: World, case: Case, code: str, by: Any, variant: int) -> None:
    today = timezone.localdate()
    unit = w.sibling if variant == 3 else w.street
    if code == "assign":
        S.case_assign(case=case, by=by, unit=unit)
    elif code == "forward":
        S.case_forward(case=case, by=by, unit=unit)
    elif code == "inform":
        S.case_inform(case=case, by=by, reason="属于诉讼程序，请向法院反映")
    elif code == "sign_in":
        S.case_sign_in(case=case, by=by)
    elif code == "accept":
        S.case_accept(case=case, by=by, notice_text="经审查，决定受理。")
    elif code == "refuse":
        S.case_refuse(case=case, by=by, notice_text="不属于本单位职权范围")
    elif code == "return":
        S.case_return(case=case, by=by, reason="不属于本单位职责")
    elif code == "request_extension":
        S.case_request_extension(case=case, by=by, days=(5, 30, 31, 15)[variant], reason="情况复杂")
    elif code == "decide_extension":
        S.case_decide_extension(case=case, by=by, approve=variant != 1, note="理由不充分")
    elif code == "reply":
        S.case_reply(
            case=case,
            # A refused attempt (wrong person, unit changed by 转办) leaves its draft: reuse it.
            draft=ReplyDraft.objects.exclude(state="served").filter(case=case).first()
            or checked_draft(case),
            by=by,
            text="经调查核实，已依法依规处理完毕。",
            served_on=today,
            method="post",
        )
    elif code == "evaluate":
        S.case_evaluate(case=case, by=by, evaluation=("satisfied", "unsatisfied")[variant % 2])
    elif code == "close":
        S.case_close(case=case, by=by)
    elif code == "request_review":
        S.case_request_review(case=case, by=by, reason="对答复意见不服")
    elif code == "decide_review":
        S.case_decide_review(case=case, by=by, text="经复查，维持原答复意见。")
    elif code == "request_rereview":
        S.case_request_rereview(case=case, by=by, reason="对复查意见不服")
    elif code == "decide_rereview":
        S.case_decide_rereview(case=case, by=by, text="经复核，维持复查意见。")
    elif code == "note":
        S.case_add_note(case=case, by=by, text="电话回访信访人")
    elif code == "merge":  # cases.handling; rarely succeeds (a merged case takes no more steps)
        into = (
            case_register(by=w.rita, office=w.office, reg=registration()) if variant == 3 else case
        )
        H.case_merge(case=case, by=by, into=into)
    elif code == "transfer":
        target = w.community if case.handling_unit_id == w.sibling.pk else w.sibling
        H.case_transfer(case=case, by=by, unit=target, reason="属其他单位管辖")
    else:  # pragma: no cover
        raise AssertionError(code)


# Timeline rows a successful action may append after its own row (features add theirs).
CONSEQUENCE_KINDS = frozenset({"extension_notice", "followup_plan", "dissatisfied_task"})


def _snapshot(case: Case) -> tuple[Any, ...]:
    return (
        Case.objects.filter(pk=case.pk).values().get(),
        list(CaseEvent.objects.filter(case=case).order_by("id").values_list("id", flat=True)),
        list(Deadline.objects.filter(case=case).order_by("id").values()),
        list(ExtensionRequest.objects.filter(case=case).order_by("id").values()),
    )


def _check_invariants(case: Case) -> None:
    assert case.status in Status.values

    events = list(CaseEvent.objects.filter(case=case).order_by("id"))
    assert events[0].kind == "register"
    assert (events[0].from_status, events[0].to_status) == ("", Status.REGISTERED)
    for prev, ev in itertools.pairwise(events):
        assert ev.from_status == prev.to_status, (prev.kind, ev.kind)
        if ev.kind in ACTIONS:
            action = ACTIONS[ev.kind]
            assert ev.from_status in action.from_states
            assert ev.to_status == (action.to_state or ev.from_status)
        else:
            assert ev.from_status == ev.to_status
    assert events[-1].to_status == case.status

    open_rows = Deadline.objects.filter(case=case, met_at__isnull=True, cancelled_at__isnull=True)
    per_kind = Counter(open_rows.values_list("kind", flat=True))
    assert all(n == 1 for n in per_kind.values()), per_kind
    obligations = {k for k in per_kind if k in OBLIGATION_KINDS}
    if case.status in (Status.FINAL, Status.CLOSED):
        assert not obligations, (case.status, obligations)
    expected = {OBLIGATION_OF[case.status]} if case.status in OBLIGATION_OF else set()
    assert obligations == expected, (case.status, obligations)

    if case.status in ROUTED:
        assert case.handling_unit_id is not None
    if case.status in (Status.REGISTERED, Status.RETURNED):
        assert case.handling_unit_id is None
    if case.status == Status.FINAL:
        assert case.closed_at is not None

    pending = ExtensionRequest.objects.filter(case=case, state="pending").count()
    assert pending <= 1
    if pending:
        assert case.status == Status.ACCEPTED, "a pending extension outlived the handling stage"
    approved = ExtensionRequest.objects.filter(case=case, state="approved").count()
    assert approved <= 1


def _run(w: World, steps: list[Step]) -> set[str]:
    """Apply ``steps`` to a new case, checking every step; return the states passed through."""
    case = case_register(by=w.rita, office=w.office, reg=registration())
    _check_invariants(case)
    reached = {case.status}
    for pick, who, variant in steps:
        case = Case.objects.get(pk=case.pk)  # as a view would load it
        if isinstance(pick, int):
            choices = actions_from(case.status)
            if not choices:
                continue
            code = choices[pick % len(choices)].code
        elif pick == NEXT:
            if case.status not in MAIN_ROAD:
                continue
            code = MAIN_ROAD[case.status]
        else:
            code = pick
        by = _actor(w, case, code, who, variant)
        before = _snapshot(case)
        status_before = case.status
        allowed_before = code != "note" and may(by, code, case)
        try:
            _apply(w, case, code, by, variant)
        except DomainError:
            assert _snapshot(case) == before, f"{code} failed but changed the case"
            case.refresh_from_db()
        else:
            case.refresh_from_db()
            new = list(
                CaseEvent.objects.filter(case=case, pk__gt=max(before[1], default=0)).order_by("id")
            )
            assert new and new[0].kind == code
            # Rows after the action's own are its consequences (state-neutral, e.g. 延期告知).
            assert all(e.kind in CONSEQUENCE_KINDS for e in new[1:]), [e.kind for e in new]
            if code != "note":
                action = ACTIONS[code]
                assert status_before in action.from_states, (code, status_before)
                assert allowed_before, (code, by.username)
                assert case.status == (action.to_state or status_before)
            else:
                assert case.status == status_before
        _check_invariants(case)
        reached.add(case.status)
    return reached


# Deep paths the random lists reach only sometimes: always run them.
FULL_PATH: list[Step] = [
    ("assign", "auto", 0),
    ("sign_in", "auto", 0),
    ("accept", "auto", 1),
    ("request_extension", "auto", 0),
    ("decide_extension", "auto", 0),
    ("reply", "auto", 0),
    ("evaluate", "auto", 0),
    ("close", "auto", 0),
    ("request_review", "rita", 0),
    ("decide_review", "auto", 0),
    ("close", "auto", 0),
    ("request_rereview", "auto", 2),
    ("decide_rereview", "auto", 0),
    ("close", "auto", 0),
    ("assign", "auto", 0),
]
RETURN_PATH: list[Step] = [
    ("forward", "auto", 3),
    ("sign_in", "hank", 0),
    ("sign_in", "auto", 0),
    ("accept", "auto", 0),
    ("request_extension", "auto", 0),
    ("return", "auto", 0),
    ("decide_extension", "auto", 0),
    ("assign", "auto", 0),
    ("sign_in", "auto", 0),
    ("accept", "auto", 0),
    ("request_extension", "auto", 1),
    ("decide_extension", "auto", 0),
    ("note", "bob", 0),
    ("note", "auto", 0),
    ("reply", "auto", 0),
    ("request_review", "auto", 0),
]
PENDING_AT_REPLY: list[Step] = [
    ("assign", "auto", 0),
    ("sign_in", "auto", 0),
    ("accept", "auto", 0),
    ("request_extension", "auto", 0),
    ("reply", "auto", 0),
]
REFUSE_PATH: list[Step] = [
    ("inform", "leo", 0),
    ("assign", "auto", 0),
    ("sign_in", "auto", 0),
    ("refuse", "auto", 0),
    ("request_review", "auto", 0),
    ("close", "auto", 0),
    ("request_review", "auto", 0),
]


@pytest.mark.django_db
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@example(steps=FULL_PATH)
@example(steps=RETURN_PATH)
@example(steps=PENDING_AT_REPLY)
@example(steps=REFUSE_PATH)
@given(steps=steps_strategy)
def test_random_action_sequences_keep_the_case_consistent(world: World, steps: list[Step]) -> None:
    for status in _run(world, steps):
        event(f"reached {status}")  # shown by --hypothesis-show-statistics


def test_full_path_reaches_final(world: World) -> None:
    """The explicit examples above really do reach the deep states (or they prove little)."""
    _run(world, FULL_PATH[:-2])
    case = Case.objects.get()
    assert case.status == Status.FINAL
    # Rows recorded as consequences of an action (回访 planned on 办结 …) are not steps.
    steps = CaseEvent.objects.filter(case=case).exclude(kind__in=CONSEQUENCE_KINDS)
    kinds = list(steps.order_by("id").values_list("kind", flat=True))
    assert kinds == ["register", *(code for code, _, _ in FULL_PATH[:-2])]
