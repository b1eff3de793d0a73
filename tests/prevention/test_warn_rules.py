"""The early-warning rules and the sweep (helper E)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.prevention._warn_util import bulk_cases, spread
from tests.threads import in_threads, needs_server_db
from xinfang.cases.models import Case, CasePetitioner, Category, Deadline, Status
from xinfang.people.models import Petitioner, PetitionerGroup
from xinfang.prevention.models import Alert, Dispute, RiskLevel, WarningRule, WarningSweep
from xinfang.prevention.warning import place_unit_for, warning_sweep

AS_OF = dt.date(2026, 6, 15)  # a Monday: the window is 6月8日–14日, the baseline the 84 days before
WIN_START = AS_OF - dt.timedelta(days=7)
BASE_START = WIN_START - dt.timedelta(days=84)
STREET_CODE = "110105001"

pytestmark = pytest.mark.django_db


def _only(rule: str) -> None:
    WarningRule.objects.exclude(code=rule).update(is_active=False)


def _weekly_baseline_then(world: Any, n: int, **fields: Any) -> None:
    bulk_cases(world, spread(BASE_START, 84, 1 / 7), place_code=STREET_CODE + "000", **fields)
    bulk_cases(
        world,
        [WIN_START + dt.timedelta(days=i % 7) for i in range(n)],
        place_code=STREET_CODE + "000",
        **fields,
    )


def test_place_code_maps_to_longest_prefix_unit(world: Any) -> None:
    assert place_unit_for("110105001007") == world.street
    assert place_unit_for("110105002") == world.sibling
    assert place_unit_for("110105") == world.district
    assert place_unit_for("3201") is None
    assert place_unit_for("") is None


def test_spike_place_nine_in_a_week_against_one_a_week_raises(world: Any) -> None:
    _only("spike_place")
    _weekly_baseline_then(world, 9)
    sweep = warning_sweep(AS_OF)
    alerts = list(Alert.objects.filter(rule="spike_place"))
    assert len(alerts) == 1
    a = alerts[0]
    assert a.unit == world.street
    assert a.data["observed"] == 9
    assert a.data["baseline_total"] == 12
    assert a.data["expected"] == pytest.approx((12 + 0.5) / 84 * 7, abs=1e-3)
    assert a.data["p"] < 1e-5
    assert a.data["window_start"] == "2026-06-08" and a.data["window_end"] == "2026-06-14"
    assert "place=110105001" in a.data["cases_url"]
    assert a.owner == world.leo  # the leader over the street
    assert sweep.raised == 1 and sweep.stats["spike_place"]["raised"] == 1
    assert "ms" in sweep.stats["spike_place"]


def test_spike_place_three_in_a_week_raises_nothing(world: Any) -> None:
    _only("spike_place")
    _weekly_baseline_then(world, 3)
    assert warning_sweep(AS_OF).raised == 0
    assert not Alert.objects.exists()


def test_one_a_day_then_nine_in_a_week_is_not_a_spike(world: Any) -> None:
    """With 1 case a day as the baseline, λ = 7: P(X ≥ 9) ≈ 0.27 — ordinary."""
    _only("spike_place")
    bulk_cases(world, spread(BASE_START, 84, 1), place_code=STREET_CODE)
    bulk_cases(
        world, [WIN_START + dt.timedelta(days=i % 7) for i in range(9)], place_code=STREET_CODE
    )
    assert warning_sweep(AS_OF).raised == 0


def test_sweep_is_idempotent_and_a_spike_is_reported_once_while_in_its_window(world: Any) -> None:
    _only("spike_place")
    _weekly_baseline_then(world, 9)
    assert warning_sweep(AS_OF).raised == 1
    again = warning_sweep(AS_OF)
    assert again.raised == 0 and again.stats["spike_place"]["candidates"] == 1
    # the next days the same cases are still in the window: no new alert
    assert warning_sweep(AS_OF + dt.timedelta(days=1)).raised == 0
    assert Alert.objects.count() == 1
    assert WarningSweep.objects.count() == 3


def test_inactive_rule_does_nothing_and_params_come_from_the_row(world: Any) -> None:
    _weekly_baseline_then(world, 9)
    WarningRule.objects.filter(code="spike_place").update(is_active=False)
    sweep = warning_sweep(AS_OF)
    assert "spike_place" not in sweep.stats
    assert not Alert.objects.filter(rule="spike_place").exists()
    rule = WarningRule.objects.get(code="spike_place")
    rule.is_active = True
    rule.params = {**rule.params, "min_count": 10}
    rule.save()
    assert not Alert.objects.filter(rule="spike_place").exists()
    warning_sweep(AS_OF)
    assert not Alert.objects.filter(rule="spike_place").exists()  # 9 < min_count 10


def test_spike_topic_by_top_level_category(world: Any) -> None:
    _only("spike_topic")
    top = Category.objects.filter(parent__isnull=True).order_by("id").first()
    assert top is not None
    child = Category.objects.filter(parent=top).first() or top
    _weekly_baseline_then(world, 10, category=child)
    warning_sweep(AS_OF)
    a = Alert.objects.get(rule="spike_topic")
    assert a.unit == world.district
    assert a.data["category_id"] == top.pk
    assert a.data["observed"] == 10
    assert top.name in a.title
    assert f"category={top.pk}" in a.data["cases_url"]


def test_group_cluster(world: Any) -> None:
    _only("group_cluster")
    g = PetitionerGroup.objects.create(name="某厂退休职工")
    other = PetitionerGroup.objects.create(name="某小区业主")
    bulk_cases(
        world, [AS_OF - dt.timedelta(days=d) for d in (1, 10, 20)], group=g, place_code=STREET_CODE
    )
    bulk_cases(world, [AS_OF - dt.timedelta(days=d) for d in (1, 40)], group=other)
    warning_sweep(AS_OF)
    a = Alert.objects.get(rule="group_cluster")
    assert a.group == g and a.unit == world.street and a.severity == "orange"
    assert a.data["observed"] == 3 and len(a.data["case_numbers"]) == 3
    assert warning_sweep(AS_OF + dt.timedelta(days=1)).raised == 0  # reported once


def _closed_case_and_petitioner(register: Any, closed_days_ago: int) -> tuple[Case, Any]:
    from django.utils import timezone

    first = register(summary="反映拖欠工资问题")
    Case.objects.filter(pk=first.pk).update(
        status=Status.CLOSED, closed_at=timezone.now() - dt.timedelta(days=closed_days_ago)
    )
    return first, first.parties.get().petitioner


def test_repeat_after_close_from_the_receiver(
    world: Any, register: Any, django_capture_on_commit_callbacks: Any
) -> None:
    first, _p = _closed_case_and_petitioner(register, 30)
    with django_capture_on_commit_callbacks(execute=True):
        second = register(summary="再次反映拖欠工资问题")
    a = Alert.objects.get(rule="repeat_after_close")
    assert a.case == second
    assert a.data["earlier_number"] == first.number
    assert a.data["days_after_close"] in (29, 30)
    assert a.dedupe_key == f"repeat_after_close:c{second.pk}"


def test_repeat_after_close_caught_up_by_the_sweep_and_limits(world: Any, register: Any) -> None:
    from django.utils import timezone

    _only("repeat_after_close")
    _first, person = _closed_case_and_petitioner(register, 30)
    today = timezone.localtime().date()
    old_person = Petitioner.objects.create(name="李四")
    (old,) = bulk_cases(
        world,
        [today - dt.timedelta(days=500)],
        status=Status.CLOSED,
        closed_at=timezone.now() - dt.timedelta(days=400),
    )  # beyond 180 days
    CasePetitioner.objects.create(case=old, petitioner=old_person)
    Alert.objects.all().delete()
    new, late = bulk_cases(world, [today, today])
    CasePetitioner.objects.create(case=new, petitioner=person)
    CasePetitioner.objects.create(case=late, petitioner=old_person)
    sweep = warning_sweep(today)
    assert list(Alert.objects.values_list("case_id", flat=True)) == [new.pk]
    assert sweep.stats["repeat_after_close"]["raised"] == 1
    assert warning_sweep(today).raised == 0


def test_repeat_receiver_failure_is_logged_not_raised(
    world: Any,
    register: Any,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: Any,
    caplog: Any,
) -> None:
    from xinfang.prevention import warning

    def boom(case: Any) -> int:
        raise RuntimeError("规则出错")

    monkeypatch.setattr(warning, "on_case_registered", boom)
    with django_capture_on_commit_callbacks(execute=True):
        case = register()
    assert Case.objects.filter(pk=case.pk).exists()
    assert "case_registered receiver" in caplog.text


def test_dispute_overdue(world: Any, pv: Any) -> None:
    _only("dispute_overdue")
    low = pv.dispute()
    high = pv.dispute(title="征地补偿纠纷", risk_level=RiskLevel.HIGH)
    fine = pv.dispute(title="邻里噪音纠纷")
    today = dt.date.today()
    Dispute.objects.filter(pk__in=[low.pk, high.pk]).update(due_on=today - dt.timedelta(days=2))
    warning_sweep(today + dt.timedelta(days=1))
    got = {a.dispute_id: a for a in Alert.objects.filter(rule="dispute_overdue")}
    assert set(got) == {low.pk, high.pk}
    assert got[low.pk].severity == "yellow" and got[high.pk].severity == "orange"
    assert got[low.pk].unit == world.street
    assert fine.pk not in got
    assert warning_sweep(today + dt.timedelta(days=2)).raised == 0


def test_case_near_deadline_one_alert_per_open_row_in_the_window(world: Any, register: Any) -> None:
    _only("case_near_deadline")
    case = register()
    Deadline.objects.filter(case=case).delete()
    soon = Deadline.objects.create(
        case=case, kind="accept", started_on=AS_OF, due_on=AS_OF + dt.timedelta(days=2)
    )
    Deadline.objects.create(
        case=case, kind="handle", started_on=AS_OF, due_on=AS_OF + dt.timedelta(days=20)
    )
    Deadline.objects.create(
        case=case,
        kind="route",
        started_on=AS_OF,
        due_on=AS_OF + dt.timedelta(days=1),
        met_at=dt.datetime(2026, 6, 14, tzinfo=dt.UTC),
    )
    Deadline.objects.create(  # the petitioner's own window: never an obligation
        case=case, kind="review_request", started_on=AS_OF, due_on=AS_OF + dt.timedelta(days=1)
    )
    warning_sweep(AS_OF)
    a = Alert.objects.get(rule="case_near_deadline")
    assert a.data["deadline_id"] == soon.pk
    assert "2天后" in a.title
    assert warning_sweep(AS_OF).raised == 0


def test_a_failing_rule_is_recorded_and_the_others_run(world: Any, monkeypatch: Any) -> None:
    from xinfang.prevention import warning

    def boom(ctx: Any) -> None:
        raise RuntimeError("坏了")

    monkeypatch.setitem(warning.RULES, "spike_place", boom)
    sweep = warning_sweep(AS_OF)
    assert "RuntimeError" in sweep.stats["spike_place"]["error"]
    assert "case_near_deadline" in sweep.stats


@needs_server_db
@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_raise_once(world: Any) -> None:
    _only("spike_place")
    _weekly_baseline_then(world, 9)
    g = PetitionerGroup.objects.create(name="某厂退休职工")
    bulk_cases(world, [AS_OF - dt.timedelta(days=d) for d in (1, 2, 3)], group=g)
    WarningRule.objects.filter(code="group_cluster").update(is_active=True)
    results = in_threads(4, lambda i: warning_sweep(AS_OF).raised)
    assert all(isinstance(r, int) for r in results), results
    assert sum(results) == 2
    assert Alert.objects.filter(rule="spike_place").count() == 1
    assert Alert.objects.filter(rule="group_cluster").count() == 1


# --- a catch-up sweep for a past day (review finding 13) ---------------------------------------


def test_backdated_sweep_stamps_its_day_and_the_forecast_counts_that_week(
    world: Any, register: Any
) -> None:
    """``warning_sweep(as_of=past)`` raises at the start of that day (Beijing), not now — the
    alert belongs to that week's 预测预报, not this week's; a per-case alert is never stamped
    before the case it is about."""
    from django.utils import timezone

    from tests.prevention._warn_util import TZ
    from xinfang.prevention.warning import forecast_for, parse_week

    _only("spike_place")
    _weekly_baseline_then(world, 9)
    warning_sweep(AS_OF)
    a = Alert.objects.get(rule="spike_place")
    assert a.raised_at == dt.datetime(2026, 6, 15, tzinfo=TZ)
    assert a.events.get(kind="raise").at == a.raised_at
    assert forecast_for(world.district, parse_week("2026-W25")).alerts_total == 1  # 6月15日–21日
    now = timezone.localdate()
    this_week = now - dt.timedelta(days=now.weekday())
    assert forecast_for(world.district, this_week).alerts_total == 0
    # the repeat rule's catch-up: the case came in at noon of the swept day
    WarningRule.objects.update(is_active=False)
    WarningRule.objects.filter(code="repeat_after_close").update(is_active=True)
    person = Petitioner.objects.create(name="王五")
    (old,) = bulk_cases(
        world,
        [AS_OF - dt.timedelta(days=60)],
        status=Status.CLOSED,
        closed_at=dt.datetime(2026, 5, 1, 9, tzinfo=TZ),
    )
    (new,) = bulk_cases(world, [AS_OF])
    CasePetitioner.objects.create(case=old, petitioner=person)
    CasePetitioner.objects.create(case=new, petitioner=person)
    warning_sweep(AS_OF)
    r = Alert.objects.get(rule="repeat_after_close")
    assert r.raised_at == new.received_at == dt.datetime(2026, 6, 15, 12, tzinfo=TZ)
    # today's sweep still stamps now
    other = Petitioner.objects.create(name="赵六")
    (old2,) = bulk_cases(
        world, [now - dt.timedelta(days=30)], status=Status.CLOSED, closed_at=timezone.now()
    )
    (new2,) = bulk_cases(world, [now])
    CasePetitioner.objects.create(case=old2, petitioner=other)
    CasePetitioner.objects.create(case=new2, petitioner=other)
    Case.objects.filter(pk=old2.pk).update(closed_at=timezone.now() - dt.timedelta(days=3))
    before = timezone.now()
    warning_sweep(now)
    today_alert = Alert.objects.get(rule="repeat_after_close", case=new2)
    assert before <= today_alert.raised_at <= timezone.now()
