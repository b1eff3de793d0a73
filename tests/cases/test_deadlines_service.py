"""Deadlines as the services compute them (real 2025 calendar), and the 正常/临期/超期 state.

Expected dates are literals read off the State Council's 2025 arrangement: National Day and
Mid-Autumn 10-01..10-08 off, Sun 09-28 and Sat 10-11 worked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import World, registration
from xinfang.cases import deadlines as D
from xinfang.cases import services as S
from xinfang.cases.models import OBLIGATION_KINDS, Case, Deadline, DeadlineKind, DeadlineRule
from xinfang.cases.registration import case_register
from xinfang.cases.selectors import CaseFilter, case_list
from xinfang.core import workcalendar
from xinfang.core.models import CalendarDay

K = DeadlineKind
SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _fresh_calendar_cache() -> Iterator[None]:
    workcalendar.clear_cache()
    yield
    workcalendar.clear_cache()


def received(y: int, m: int, d: int) -> dt.datetime:
    return dt.datetime(y, m, d, 10, tzinfo=SH)


def register_received(w: World, when: dt.datetime) -> Case:
    return case_register(by=w.rita, office=w.office, reg=registration(received_at=when))


def set_rule(kind: str, **values: Any) -> None:
    """Edit a rule as the admin does (``save()``: the per-process rule cache is cleared)."""
    row = DeadlineRule.objects.get(kind=kind)
    for name, value in values.items():
        setattr(row, name, value)
    row.save()


def route_due(case: Case) -> dt.date:
    return Deadline.objects.get(case=case, kind=K.ROUTE).due_on


# --- the route deadline over National Day 2025 -----------------------------------------------


@pytest.mark.parametrize(
    ("day", "due"),
    [
        (dt.date(2025, 9, 20), dt.date(2025, 10, 9)),  # +15 = Sun 10-05, holiday → Thu 10-09
        (dt.date(2025, 9, 16), dt.date(2025, 10, 9)),  # +15 = Wed 10-01, holiday → 10-09
        (dt.date(2025, 9, 26), dt.date(2025, 10, 11)),  # +15 = Sat 10-11, a worked Saturday
        (dt.date(2025, 9, 13), dt.date(2025, 9, 28)),  # +15 = Sun 09-28, a worked Sunday
        (dt.date(2025, 9, 12), dt.date(2025, 9, 28)),  # +15 = Sat 09-27, rest → worked Sun 09-28
        (dt.date(2025, 9, 24), dt.date(2025, 10, 9)),  # +15 = Thu 10-09, first day back
    ],
)
def test_route_deadline_rolls_past_national_day(world: World, day: dt.date, due: dt.date) -> None:
    case = register_received(world, received(day.year, day.month, day.day))
    row = Deadline.objects.get(case=case, kind=K.ROUTE)
    assert (row.started_on, row.due_on) == (day, due)


def test_received_date_is_the_local_date(world: World) -> None:
    # 2025-09-20 20:30 UTC is already 09-21 in Beijing: counting starts on the 21st.
    late = dt.datetime(2025, 9, 20, 20, 30, tzinfo=dt.UTC)
    row = Deadline.objects.get(case=register_received(world, late), kind=K.ROUTE)
    assert row.started_on == dt.date(2025, 9, 21)
    assert row.due_on == dt.date(2025, 10, 9)  # 10-06 is a holiday too


def test_rule_changed_to_working_days_applies_to_new_cases_only(world: World) -> None:
    before = register_received(world, received(2025, 9, 20))
    set_rule(K.ROUTE, working_days=True)
    after = register_received(world, received(2025, 9, 20))
    # The 15th working day after Sat 09-20: 22–26 (5), 28–30 (8), 10-09..11 (11), 13–16 (15).
    assert route_due(after) == dt.date(2025, 10, 16)
    assert route_due(before) == dt.date(2025, 10, 9)


def test_rule_without_roll_keeps_a_holiday_due_date(world: World) -> None:
    set_rule(K.ROUTE, roll_to_workday=False)
    assert route_due(register_received(world, received(2025, 9, 20))) == dt.date(2025, 10, 5)


def test_rule_days_are_data(world: World) -> None:
    set_rule(K.ROUTE, days=10)
    assert route_due(register_received(world, received(2025, 9, 20))) == dt.date(2025, 9, 30)


def test_missing_rule_falls_back_to_the_national_limit(world: World) -> None:
    DeadlineRule.objects.filter(kind=K.ROUTE).delete()
    assert route_due(register_received(world, received(2025, 9, 20))) == dt.date(2025, 10, 9)


def test_calendar_override_moves_new_deadlines(world: World) -> None:
    CalendarDay.objects.create(date=dt.date(2025, 10, 9), is_workday=False)
    assert route_due(register_received(world, received(2025, 9, 20))) == dt.date(2025, 10, 10)


def test_accept_deadline_over_the_holiday(world: World) -> None:
    case = register_received(world, received(2025, 9, 19))
    S.case_assign(case=case, by=world.alice, unit=world.street, at=received(2025, 9, 22))
    accept = Deadline.objects.get(case=case, kind=K.ACCEPT)
    assert (accept.started_on, accept.due_on) == (dt.date(2025, 9, 22), dt.date(2025, 10, 9))


def test_handle_deadline_over_the_holiday(world: World) -> None:
    case = register_received(world, received(2025, 8, 1))
    S.case_assign(case=case, by=world.alice, unit=world.street, at=received(2025, 8, 5))
    S.case_sign_in(case=case, by=world.hank, at=received(2025, 8, 6))
    S.case_accept(case=case, by=world.hank, notice_text="决定受理。", at=received(2025, 8, 7))
    handle = Deadline.objects.get(case=case, kind=K.HANDLE)
    assert handle.due_on == dt.date(2025, 10, 9)  # 08-07 + 60 = Mon 10-06 → 10-09


def test_working_day_handle_rule_and_extension(world: World) -> None:
    set_rule(K.HANDLE, days=10, working_days=True)
    case = register_received(world, received(2025, 9, 22))
    S.case_assign(case=case, by=world.alice, unit=world.street, at=received(2025, 9, 24))
    S.case_sign_in(case=case, by=world.hank, at=received(2025, 9, 25))
    S.case_accept(case=case, by=world.hank, notice_text="决定受理。", at=received(2025, 9, 26))
    # 10 working days after Fri 09-26: 28, 29, 30, 10-09, 10, 11, 13, 14, 15, 16.
    assert Deadline.objects.get(case=case, kind=K.HANDLE).due_on == dt.date(2025, 10, 16)
    S.case_request_extension(case=case, by=world.hank, days=2, reason="情况复杂需调查")
    S.case_decide_extension(case=case, by=world.alice, approve=True)
    # Two more working days: Fri 10-17, Mon 10-20.
    assert Deadline.objects.get(case=case, kind=K.HANDLE).due_on == dt.date(2025, 10, 20)


# --- 正常 / 临期 / 超期 ----------------------------------------------------------------------

TODAY = dt.date(2026, 6, 10)
DAY = dt.timedelta(days=1)

# name → (expected state, [(kind, days from TODAY, met, cancelled, paused)])
Spec = tuple[str, int, bool, bool, bool]
CRAFTED: dict[str, tuple[str, list[Spec]]] = {
    "overdue": (D.OVERDUE, [(K.ROUTE, -1, False, False, False)]),
    "due_today": (D.DUE_SOON, [(K.ACCEPT, 0, False, False, False)]),
    "due_in_3": (D.DUE_SOON, [(K.HANDLE, 3, False, False, False)]),
    "due_in_4": (D.NORMAL, [(K.HANDLE, 4, False, False, False)]),
    "met_late": (D.NONE, [(K.ROUTE, -9, True, False, False)]),
    "cancelled": (D.NONE, [(K.HANDLE, -2, False, True, False)]),
    "paused": (D.NONE, [(K.HANDLE, -2, False, False, True)]),
    "window_only": (D.NONE, [(K.REVIEW_REQUEST, -3, False, False, False)]),
    "no_rows": (D.NONE, []),
    "overdue_and_normal": (
        D.OVERDUE,
        [(K.ROUTE, -1, False, False, False), (K.HANDLE, 30, False, False, False)],
    ),
    "soon_and_normal": (
        D.DUE_SOON,
        [(K.REVIEW_DECIDE, 2, False, False, False), (K.HANDLE, 30, False, False, False)],
    ),
    "normal_past_met": (
        D.NORMAL,
        [(K.ROUTE, -5, True, False, False), (K.ACCEPT, 10, False, False, False)],
    ),
    "window_overdue_obligation_normal": (
        D.NORMAL,
        [
            (K.REREVIEW_REQUEST, -1, False, False, False),
            (K.REREVIEW_DECIDE, 20, False, False, False),
        ],
    ),
}


def _craft(case: Case, specs: list[Spec]) -> None:
    Deadline.objects.filter(case=case).delete()
    at = dt.datetime(2026, 6, 1, tzinfo=SH)
    for kind, offset, met, cancelled, paused in specs:
        due = TODAY + offset * DAY
        Deadline.objects.create(
            case=case,
            kind=kind,
            started_on=due - 15 * DAY,
            due_on=due,
            met_at=at if met else None,
            cancelled_at=at if cancelled else None,
            paused=paused,
        )


@pytest.fixture
def crafted(world: World) -> dict[str, Case]:
    out = {}
    for name, (_, specs) in CRAFTED.items():
        case = register_received(world, received(2026, 5, 1))
        _craft(case, specs)
        out[name] = case
    return out


def _states(qs: Any) -> dict[int, tuple[str, set[str]]]:
    """Per case: the state read from ``next_due`` and the states whose filter includes it."""
    by_next: dict[int, str] = {}
    for case in D.with_next_due(qs):
        next_due = case.next_due  # type: ignore[attr-defined]  # an annotation
        by_next[case.pk] = D.state_of(next_due, TODAY)
    by_filter: dict[int, set[str]] = {pk: set() for pk in by_next}
    for state in (D.OVERDUE, D.DUE_SOON, D.NORMAL, D.NONE):
        for pk in D.filter_deadline_state(qs, state, TODAY).values_list("pk", flat=True):
            by_filter[pk].add(state)
    return {pk: (by_next[pk], by_filter[pk]) for pk in by_next}


def test_crafted_deadline_states(world: World, crafted: dict[str, Case]) -> None:
    states = _states(Case.objects.filter(pk__in=[c.pk for c in crafted.values()]))
    for name, case in crafted.items():
        expected = CRAFTED[name][0]
        assert states[case.pk] == (expected, {expected}), name


def test_case_list_deadline_filter(world: World, crafted: dict[str, Case]) -> None:
    for state in (D.OVERDUE, D.DUE_SOON, D.NORMAL, D.NONE):
        listed = set(
            case_list(world.alice, CaseFilter(deadline=state), today=TODAY).values_list(
                "pk", flat=True
            )
        )
        expected = {c.pk for n, c in crafted.items() if CRAFTED[n][0] == state}
        assert listed == expected, state
    assert not case_list(world.bob, CaseFilter(deadline=D.OVERDUE), today=TODAY).exists()


spec_strategy = st.lists(
    st.tuples(
        st.sampled_from(list(K)),
        st.integers(-6, 8),
        st.booleans(),
        st.booleans(),
        st.booleans(),
    ),
    max_size=4,
)


@pytest.mark.django_db
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=st.lists(spec_strategy, min_size=1, max_size=4))
def test_state_of_and_filter_agree(world: World, specs: list[list[Spec]]) -> None:
    cases = []
    for spec in specs:
        case = register_received(world, received(2026, 5, 1))
        _craft(case, spec)
        cases.append(case)
    states = _states(Case.objects.filter(pk__in=[c.pk for c in cases]))
    for case, spec in zip(cases, specs, strict=True):
        by_next, by_filter = states[case.pk]
        assert by_filter == {by_next}, spec
        # And both agree with a direct reading of the rows.
        open_dues = [
            TODAY + off * DAY
            for kind, off, met, cancelled, paused in spec
            if kind in OBLIGATION_KINDS and not (met or cancelled or paused)
        ]
        assert by_next == D.state_of(min(open_dues, default=None), TODAY)
