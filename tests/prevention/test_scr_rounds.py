"""排查轮次 services: opening, submitting (guards, double submit, rollback), reminders, the
late list, the level above's aggregate, and a quarter of daily sweeps over the 2026 holidays."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter

import pytest
from django.core.management import call_command
from django.db import IntegrityError

from tests.conftest import World, make_user
from tests.prevention._scr_util import add_community, at, cora, item, open_dispute
from xinfang.core import workcalendar
from xinfang.core.errors import DomainError, PermissionDenied
from xinfang.notify.models import Notification
from xinfang.org import roles as R
from xinfang.org.models import Unit
from xinfang.prevention import screening as S
from xinfang.prevention.models import (
    Dispute,
    DisputeEvent,
    ReportState,
    ScreeningReport,
    ScreeningRound,
)

D = dt.date
TODAY = D(2026, 11, 18)  # a Wednesday in 2026年第47周 and 11月下半月


def report_of(rnd: ScreeningRound, unit: Unit) -> ScreeningReport:
    return ScreeningReport.objects.select_related("round", "unit").get(round=rnd, unit=unit)


def weekly(rounds: list[ScreeningRound]) -> ScreeningRound:
    return next(r for r in rounds if r.rule.cadence == "weekly")


# --- opening -------------------------------------------------------------------------------


def test_open_rounds_once_with_a_report_per_unit(world: World) -> None:
    rounds = S.open_rounds(TODAY)
    assert sorted(r.label for r in rounds) == ["2026年11月", "2026年11月下半月", "2026年第47周"]
    by_label = {r.label: set(r.reports.values_list("unit__name", flat=True)) for r in rounds}
    assert by_label["2026年11月"] == {"区信访局"}
    assert by_label["2026年11月下半月"] == {"东湖街道", "西山街道"}
    assert by_label["2026年第47周"] == {"东湖社区"}
    assert all(
        r.reports.filter(state=ReportState.PENDING).count() == r.reports.count() for r in rounds
    )
    again = S.open_rounds(TODAY + dt.timedelta(days=1))
    assert {r.pk for r in again} == {r.pk for r in rounds}
    assert ScreeningReport.objects.count() == 4


def test_membership_is_fixed_when_a_round_opens(world: World) -> None:
    rnd = weekly(S.open_rounds(TODAY))
    late_comer, _ = add_community(world, "新建社区", "nina")
    Unit.objects.filter(pk=world.community.pk).update(is_active=False)
    S.open_rounds(TODAY + dt.timedelta(days=1))
    # The new unit joins from the next round; the deactivated unit's report stays listed.
    assert not rnd.reports.filter(unit=late_comer).exists()
    assert rnd.reports.filter(unit=world.community).exists()
    nxt = weekly(S.open_rounds(TODAY + dt.timedelta(days=7)))
    assert set(nxt.reports.values_list("unit__name", flat=True)) == {"新建社区"}


def test_concurrent_open_returns_the_existing_round(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = {r.pk for r in S.open_rounds(TODAY)}
    # A sweep that did not see the rows (a race): the unique index refuses, the row is fetched.
    real_filter = ScreeningRound.objects.filter

    class Blind:
        def first(self) -> None:
            return None

    monkeypatch.setattr(
        ScreeningRound.objects,
        "filter",
        lambda **kw: Blind() if "period_start" in kw else real_filter(**kw),
    )
    again = {r.pk for r in S.open_rounds(TODAY)}
    assert again == first
    with pytest.raises(IntegrityError):
        ScreeningRound.objects.create(
            rule_id=ScreeningRound.objects.get(pk=min(first)).rule_id,
            label="x",
            period_start=ScreeningRound.objects.get(pk=min(first)).period_start,
            period_end=TODAY,
            due_on=TODAY,
            opened_at=at(TODAY),
        )


# --- submitting ----------------------------------------------------------------------------


def test_submit_new_item_and_change_in_one_go(world: World) -> None:
    c = cora()
    d = open_dispute(world, c)
    rep = report_of(weekly(S.open_rounds(TODAY)), world.community)
    S.report_submit(
        c,
        rep,
        nothing_new=False,
        note="走访32户",
        new_items=[item()],
        changes={d.pk: "已召开调解会"},
        at=at(TODAY),
    )
    rep.refresh_from_db()
    assert (rep.state, rep.new_count, rep.changed_count, rep.is_late) == ("submitted", 1, 1, False)
    assert rep.submitted_by == c and rep.note == "走访32户"
    new = Dispute.objects.get(round_report=rep)
    assert (new.source, new.unit_id, new.place_unit_id) == (
        "screening",
        world.community.pk,
        world.community.pk,
    )
    ev = DisputeEvent.objects.get(dispute=d, kind="round_update")
    assert ev.report == rep and ev.text == "已召开调解会" and ev.actor == c


def test_nothing_new_is_an_explicit_report(world: World) -> None:
    rep = report_of(weekly(S.open_rounds(TODAY)), world.community)
    with pytest.raises(DomainError, match="本期无新情况"):
        S.report_submit(cora(), rep, nothing_new=False, note="", new_items=[], changes={})
    with pytest.raises(DomainError, match="不能同时填写"):
        S.report_submit(cora(), rep, nothing_new=True, new_items=[item()])
    S.report_submit(cora(), rep, nothing_new=True, note="", at=at(TODAY))
    rep.refresh_from_db()
    assert rep.nothing_new and rep.state == "submitted" and rep.new_count == 0


def test_double_submit_is_refused_naming_who_and_when(world: World) -> None:
    rep = report_of(weekly(S.open_rounds(TODAY)), world.community)
    S.report_submit(cora(), rep, nothing_new=True, at=at(TODAY, 9))
    stale = report_of(rep.round, world.community)
    stale.state = ReportState.PENDING  # a second tab still holding the pending form
    with pytest.raises(DomainError) as exc:
        S.report_submit(cora(), stale, nothing_new=False, new_items=[item()])
    assert exc.value.message == (
        "本单位本轮排查已由柯拉于2026-11-18 09:00报送，不能重复报送；"
        "新情况请在台账中登记或在下一轮报送"
    )
    assert not Dispute.objects.exists()  # nothing half-done


def test_report_for_a_unit_you_do_not_belong_to(world: World) -> None:
    rounds = S.open_rounds(TODAY)
    rep = report_of(weekly(rounds), world.community)
    for outsider in (world.bob, world.hank, world.leo, world.rita):
        with pytest.raises(PermissionDenied, match="不能报送该单位"):
            S.report_submit(outsider, rep, nothing_new=True)
    informant = make_user("ivy", world.community, R.INFORMANT, "艾薇")
    S.report_submit(informant, rep, nothing_new=True)
    assert report_of(rep.round, world.community).submitted_by == informant


def test_a_bad_new_item_rolls_back_the_whole_report(world: World) -> None:
    c = cora()
    d = open_dispute(world, c)
    rep = report_of(weekly(S.open_rounds(TODAY)), world.community)
    with pytest.raises(DomainError) as exc:
        S.report_submit(
            c, rep, nothing_new=False, new_items=[item(), item(parties="")], changes={d.pk: "变化"}
        )
    assert exc.value.field == "n-1-parties" and exc.value.message.startswith("第2条：")
    rep.refresh_from_db()
    assert rep.state == "pending" and rep.submitted_at is None
    assert (
        Dispute.objects.count() == 1
        and not DisputeEvent.objects.filter(kind="round_update").exists()
    )
    # A place outside the reporting unit is refused too.
    with pytest.raises(DomainError) as exc:
        S.report_submit(c, rep, nothing_new=False, new_items=[item(place_unit=world.sibling)])
    assert exc.value.field == "n-0-place_unit"


def test_changes_only_on_the_units_open_disputes(world: World) -> None:
    other = open_dispute(world, world.bob, unit=world.sibling)
    rep = report_of(weekly(S.open_rounds(TODAY)), world.community)
    with pytest.raises(DomainError, match="化解中"):
        S.report_submit(cora(), rep, nothing_new=False, changes={other.pk: "改"})


def test_late_submission_is_flagged(world: World) -> None:
    rnd = weekly(S.open_rounds(TODAY))  # week 47: due Mon 11-23
    rep = report_of(rnd, world.community)
    S.report_submit(cora(), rep, nothing_new=True, at=at(D(2026, 11, 24)))
    assert report_of(rnd, world.community).is_late
    assert [r.unit.name for r in S.late_reports(rnd, D(2026, 11, 24))] == ["东湖社区"]


# --- aggregate -----------------------------------------------------------------------------


def test_the_level_above_sees_the_aggregate(world: World) -> None:
    c2, dan = add_community(world, "东湖二社区", "dan")
    c3, _ = add_community(world, "西山社区", "sid", parent=world.sibling)
    rnd = weekly(S.open_rounds(TODAY))
    S.report_submit(
        cora(),
        report_of(rnd, world.community),
        nothing_new=False,
        new_items=[item(), item(title="二")],
        at=at(TODAY),
    )
    S.report_submit(dan, report_of(rnd, c2), nothing_new=True, at=at(D(2026, 11, 24)))
    day = D(2026, 11, 25)
    street = S.round_aggregate(rnd, world.uma, day)
    assert [g.parent.name for g in street["groups"]] == ["东湖街道"]
    t = street["total"]
    assert (t.expected, t.submitted, t.nothing_new, t.late, t.new_items, t.completion) == (
        2,
        2,
        1,
        1,
        2,
        100,
    )
    district = S.round_aggregate(rnd, world.leo, day)
    groups = {g.parent.name: g.tally for g in district["groups"]}
    assert groups["东湖街道"].submitted == 2 and groups["西山街道"].expected == 1
    assert groups["西山街道"].late == 1  # never reported, past due
    assert [r.unit.name for r in district["late"]] == ["东湖二社区", "西山社区"]
    assert S.round_aggregate(rnd, world.bob, day)["total"].expected == 1  # only 西山社区
    summary = S.screening_summary(world.leo, today=day)
    week = next(s for s in summary if s["round"] == rnd)
    assert (week["expected"], week["submitted"], week["late_units"]) == (
        3,
        2,
        ["东湖二社区", "西山社区"],
    )
    only_street = S.screening_summary(world.leo, unit=world.street, today=day)
    assert next(s for s in only_street if s["round"] == rnd)["expected"] == 2
    assert S.screening_summary(world.sam, today=day) == []
    assert c3.pk in {r.unit_id for r in district["reports"]}


# --- the quarter ---------------------------------------------------------------------------


def workdays(a: D, b: D) -> list[D]:
    out, d = [], a
    while d <= b:
        if workcalendar.is_workday(d):
            out.append(d)
        d += dt.timedelta(days=1)
    return out


def test_a_quarter_of_daily_sweeps_over_the_2026_holidays(world: World) -> None:
    """2026-09-01 … 2026-11-30, one sweep a day (the management command): 东湖二社区 reports
    every week on the Sunday, 东湖街道 two working days late, 区信访局 on the due date,
    东湖社区 and 西山街道 never."""
    c2, dan = add_community(world, "东湖二社区", "dan")
    first, last = D(2026, 9, 1), D(2026, 11, 30)
    day = first
    street_submitted: dict[int, D] = {}
    while day <= last:
        call_command("screening_sweep", "--date", day.isoformat(), stdout=io.StringIO())
        for rep in ScreeningReport.objects.filter(state=ReportState.PENDING).select_related(
            "round", "unit"
        ):
            rnd = rep.round
            if rep.unit_id == c2.pk and day == rnd.period_end:
                S.report_submit(dan, rep, nothing_new=True, at=at(day))
            if rep.unit_id == world.office.pk and day == rnd.due_on:
                S.report_submit(world.alice, rep, nothing_new=True, at=at(day))
            if rep.unit_id == world.street.pk and day == workcalendar.add_days(
                rnd.due_on, 2, working_days=True, roll_to_workday=True
            ):
                S.report_submit(world.hank, rep, nothing_new=True, at=at(day))
                street_submitted[rnd.pk] = day
        day += dt.timedelta(days=1)

    rounds = list(ScreeningRound.objects.select_related("rule").order_by("period_start"))
    per_rule = Counter(r.rule.cadence for r in rounds)
    assert per_rule == {"weekly": 14, "half_monthly": 6, "monthly": 3}  # ISO weeks 36–49
    assert all(workcalendar.is_workday(r.due_on) for r in rounds)
    due = {(r.rule.cadence, r.label): r.due_on for r in rounds}
    assert due[("weekly", "2026年第40周")] == D(2026, 10, 8)  # the National Day week
    assert due[("weekly", "2026年第39周")] == D(2026, 9, 28)
    assert due[("half_monthly", "2026年9月下半月")] == D(2026, 10, 8)
    assert due[("monthly", "2026年9月")] == D(2026, 10, 9)
    assert due[("monthly", "2026年10月")] == D(2026, 11, 3)

    # Reminders to 东湖社区 (never reports): every working day from the first weekly due date,
    # exactly once a day, never on a rest day.
    first_due = due[("weekly", "2026年第36周")]
    cora_days = [
        n.created_at.astimezone(at(first).tzinfo).date()
        for n in Notification.objects.filter(recipient=cora(), kind="screening_remind")
    ]
    assert sorted(cora_days) == workdays(first_due, last)
    assert len(cora_days) == len(set(cora_days))
    # The level above (东湖街道's head) gets one list a working day, except on weekly due days.
    uma_days = sorted(
        n.created_at.astimezone(at(first).tzinfo).date()
        for n in Notification.objects.filter(recipient=world.uma, title__contains="东湖街道下属")
    )
    weekly_due = {r.due_on for r in rounds if r.rule.cadence == "weekly"}
    assert uma_days == [d for d in workdays(first_due, last) if d not in weekly_due]

    # On time, late, never.
    assert not ScreeningReport.objects.filter(unit=c2, is_late=True).exists()
    assert ScreeningReport.objects.filter(unit=c2, remind_count__gt=0).count() == 0
    street_reps = ScreeningReport.objects.filter(
        unit=world.street, state="submitted"
    ).select_related("round")
    assert street_reps.count() == 5  # 11月下半月 is due 12-01
    assert all(r.is_late and r.remind_count == 3 for r in street_reps)
    office = ScreeningReport.objects.filter(unit=world.office).select_related("round")
    assert [(r.state, r.is_late, r.remind_count) for r in office if r.round.due_on <= last] == [
        ("submitted", False, 1),
        ("submitted", False, 1),
    ]
    half = next(r for r in rounds if r.label == "2026年9月下半月")
    assert [(r.unit.name, r.state) for r in S.late_reports(half, last)] == [
        ("东湖街道", "submitted"),
        ("西山街道", "pending"),
    ]
    # A sibling street never reported: reminded on each working day its round was current.
    sib = report_of(half, world.sibling)
    nxt_due = due[("half_monthly", "2026年10月上半月")]
    assert sib.remind_count == len(workdays(half.due_on, nxt_due - dt.timedelta(days=1)))
    # Running the sweep again changes nothing.
    before = (Notification.objects.count(), ScreeningRound.objects.count())
    S.screening_sweep(last)
    assert (Notification.objects.count(), ScreeningRound.objects.count()) == before


def test_no_reminders_on_rest_days_or_before_due(world: World) -> None:
    S.open_rounds(D(2026, 11, 18))
    assert S.remind(D(2026, 11, 21)) == 0  # Saturday
    assert S.remind(D(2026, 11, 20)) == 0  # week 47 not due yet
    assert S.remind(D(2026, 11, 23)) == 1  # due date: 东湖社区 reminded
    assert S.remind(D(2026, 11, 23)) == 0  # once a day
