"""Time driven forward over random calendars: random holidays and 调休 workdays, cases routed,
signed in, accepted and replied on random days, the sweep run 0–2 times a day and sometimes
interrupted. Each (deadline, rule) fires at most once, never before its trigger date nor while
the deadline was closed, and always once a complete sweep ran on or after its trigger date
while the deadline was open (and the case still had that obligation)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import World
from xinfang.cases import deadlines
from xinfang.cases import services as S
from xinfang.cases.models import Case, Deadline, Status
from xinfang.core import workcalendar
from xinfang.core.models import CalendarDay
from xinfang.supervision import sweep as SW
from xinfang.supervision.models import SIGN_IN, EscalationRule, SupervisionStep, SweepRun

START = dt.date(2031, 3, 3)
DAYS = 45


def _at(day: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(START + dt.timedelta(days=day), dt.time(10)))


@dataclass
class Plan:
    route: int | None  # day of 交办 (None: never routed)
    sign: int  # days after routing
    accept: int  # days after signing
    reply: int  # days after accepting


@dataclass
class Track:
    """A deadline's life in simulation days: open on [opened, closed); for the accept deadline
    the case is 已交办 (awaiting sign-in) on [opened, signed)."""

    pk: int
    kind: str
    opened: int
    closed: int = 10**6
    signed: int = 10**6
    runs: list[tuple[int, bool]] = field(default_factory=list)


plans = st.builds(
    Plan,
    route=st.one_of(st.none(), st.integers(0, 25)),
    sign=st.integers(0, 6),
    accept=st.integers(0, 20),
    reply=st.integers(0, 30),
)


@pytest.mark.django_db
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    overrides=st.dictionaries(st.integers(0, DAYS + 40), st.booleans(), max_size=20),
    cases=st.lists(plans, min_size=1, max_size=4),
    sweeps=st.lists(st.sampled_from([0, 1, 1, 2, 3]), min_size=DAYS, max_size=DAYS),
)
def test_each_rule_fires_once_iff_its_trigger_passed_while_open(
    sup: World, register: Any, overrides: dict[int, bool], cases: list[Plan], sweeps: list[int]
) -> None:
    # sweeps per day: 0, 1, 2, or 3 = an interrupted run followed by a complete one
    with transaction.atomic():
        _simulate(sup, register, overrides, cases, sweeps)
        transaction.set_rollback(True)
    workcalendar.clear_cache()


def _simulate(
    sup: World, register: Any, overrides: dict[int, bool], plans_: list[Plan], sweeps: list[int]
) -> None:
    for off, is_work in overrides.items():
        CalendarDay.objects.create(date=START + dt.timedelta(days=off), is_workday=is_work)
    workcalendar.clear_cache()
    rules = list(EscalationRule.objects.filter(active=True))
    tracks: list[Track] = []
    live: list[tuple[Any, Plan, Track]] = []
    for plan in plans_:
        case = register()
        route = Deadline.objects.get(case=case, kind="route")
        Deadline.objects.filter(pk=route.pk).update(
            started_on=START, due_on=deadlines.due_date("route", START)
        )
        t = Track(route.pk, "route", opened=-1)
        tracks.append(t)
        live.append((case, plan, t))
    complete_days: list[int] = []
    all_days: list[int] = []
    for day in range(DAYS):
        today = START + dt.timedelta(days=day)
        for case, plan, _ in live:
            _act(sup, case, plan, day, tracks)
        n = sweeps[day]
        if n == 3:
            SW.run_sweep(today, batch=1, stop_after=1)
            all_days.append(day)
            n = 1
        for _ in range(n):
            run = SW.run_sweep(today, batch=2)
            assert run.state == SweepRun.State.DONE
            complete_days.append(day)
            all_days.append(day)
    steps = {(s.deadline_id, s.rule_id): s for s in SupervisionStep.objects.all()}
    assert SupervisionStep.objects.count() == len(steps)
    for t in tracks:
        for rule in rules:
            if t.kind not in rule.kinds and not _sign_in_on_accept(t, rule):
                assert (t.pk, rule.pk) not in steps
                continue
            base = _base(t, rule)
            trig = SW.trigger_date(base, rule.offset_days, rule.working_days)
            trig_day = (trig - START).days
            end = t.signed if SIGN_IN in rule.kinds else t.closed
            step = steps.get((t.pk, rule.pk))
            if step is not None:
                fired = (timezone.localdate(step.at) - START).days
                assert fired >= trig_day, (t, rule.code, fired, trig_day)
                assert t.opened <= fired < end, (t, rule.code, fired)
                assert fired in all_days
            must = [c for c in complete_days if c >= trig_day and t.opened <= c < end]
            if must:
                assert step is not None, (t, rule.code, trig_day, must)
                assert (timezone.localdate(step.at) - START).days <= must[0]


def _sign_in_on_accept(t: Track, rule: EscalationRule) -> bool:
    return SIGN_IN in rule.kinds and t.kind == "accept"


def _base(t: Track, rule: EscalationRule) -> dt.date:
    d = Deadline.objects.get(pk=t.pk)
    return d.started_on if SIGN_IN in rule.kinds else d.due_on


def _act(sup: World, case: Any, plan: Plan, day: int, tracks: list[Track]) -> None:
    if plan.route is None:
        return
    at = _at(day)
    r = plan.route
    s = r + plan.sign
    a = s + plan.accept
    p = a + plan.reply
    by_kind = {t.kind: t for t in tracks if Deadline.objects.filter(pk=t.pk, case=case).exists()}
    if day == r:
        S.case_assign(case=case, by=sup.alice, unit=sup.street, at=at)
        by_kind["route"].closed = day
        acc = Deadline.objects.get(case=case, kind="accept")
        tracks.append(Track(acc.pk, "accept", opened=day))
    if day == s:
        S.case_sign_in(case=case, by=sup.hank, at=at)
        by_kind = {
            t.kind: t for t in tracks if Deadline.objects.filter(pk=t.pk, case=case).exists()
        }
        by_kind["accept"].signed = day
    if day == a:
        S.case_accept(case=case, by=sup.hank, notice_text="经审查，决定受理。", at=at)
        by_kind = {
            t.kind: t for t in tracks if Deadline.objects.filter(pk=t.pk, case=case).exists()
        }
        by_kind["accept"].closed = day
        h = Deadline.objects.get(case=case, kind="handle")
        tracks.append(Track(h.pk, "handle", opened=day))
    if day == p:
        # 答复 (the reply service now needs an approved 答复意见书 draft; its effect on the
        # deadlines and state is what the sweep reads)
        Case.objects.filter(pk=case.pk).update(status=Status.REPLIED)
        deadlines.deadlines_meet(case, {"handle"}, at)
        by_kind = {
            t.kind: t for t in tracks if Deadline.objects.filter(pk=t.pk, case=case).exists()
        }
        by_kind["handle"].closed = day
