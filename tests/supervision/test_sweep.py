"""The escalation sweep: each stage on its day (working days across a holiday), idempotency,
interrupted and failed runs re-run, concurrent sweeps, recipients and confidentiality."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from typing import Any

import pytest
from django.db.models import Count

from tests.conftest import World
from tests.supervision.conftest import assigned, set_dates
from tests.threads import in_threads, needs_server_db
from xinfang.cases import services as S
from xinfang.cases.models import CaseEvent, Deadline
from xinfang.core import workcalendar
from xinfang.core.models import CalendarDay
from xinfang.notify.models import Notification
from xinfang.supervision import sweep as SW
from xinfang.supervision.models import EscalationRule, SupervisionStep, SweepRun

D = dt.date
SWEEP_KINDS = ["remind", "urge", "supervise", "escalate", "sign_in_remind"]


def _events(case: Any) -> list[str]:
    return list(
        CaseEvent.objects.filter(case=case, kind__in=SWEEP_KINDS)
        .order_by("pk")
        .values_list("kind", flat=True)
    )


# --- dates -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_cutoff_is_the_inverse_of_the_trigger_over_random_calendars() -> None:
    rng = random.Random(7)
    for day in range(60):  # a random calendar in 2031 (no library data: overrides + Mon–Fri)
        d = D(2031, 1, 1) + dt.timedelta(days=day)
        if rng.random() < 0.2:
            CalendarDay.objects.create(date=d, is_workday=d.weekday() >= 5)
    workcalendar.clear_cache()
    start = D(2031, 1, 1)
    for offset in (-5, -3, -1, 0, 1, 3, 7):
        for working in (True, False):
            for t in range(20, 40):
                today = start + dt.timedelta(days=t)
                cutoff = SW.base_cutoff(today, offset, working)
                assert SW.trigger_date(cutoff, offset, working) <= today
                assert SW.trigger_date(cutoff + dt.timedelta(days=1), offset, working) > today


# --- stages ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_stage_fires_on_its_working_day_and_not_before(sup: World, register: Any) -> None:
    # 2031 has no library data: Mon–Fri plus overrides. Mon 13 Jan is made a holiday.
    CalendarDay.objects.create(date=D(2031, 1, 13), is_workday=False, name="测试假日")
    workcalendar.clear_cache()
    case, dl = assigned(sup, register)
    set_dates(dl, started=D(2031, 1, 10), due=D(2031, 1, 15))  # routed Fri, due Wed
    fired: dict[str, D] = {}
    day = D(2031, 1, 1)
    while day <= D(2031, 1, 31):
        before = CaseEvent.objects.filter(case=case, kind__in=SWEEP_KINDS).count()
        SW.run_sweep(day)
        for ev in CaseEvent.objects.filter(case=case, kind__in=SWEEP_KINDS)[before:]:
            assert ev.kind not in fired, f"{ev.kind} fired twice"
            fired[ev.kind] = day
        day += dt.timedelta(days=1)
    assert fired == {
        # 1 working day after Fri 10: Sat, Sun, holiday Mon 13 → Tue 14
        "sign_in_remind": D(2031, 1, 14),
        # 3 working days before Wed 15: Tue 14, (Mon 13 holiday), Fri 10, Thu 9
        "remind": D(2031, 1, 9),
        "urge": D(2031, 1, 15),
        # 3 working days after: Thu 16, Fri 17, Mon 20
        "supervise": D(2031, 1, 20),
        # 7 working days after: 16, 17, 20, 21, 22, 23, 24
        "escalate": D(2031, 1, 24),
    }
    ev = CaseEvent.objects.get(case=case, kind="supervise")
    assert ev.data["stage"] == "supervise"
    assert ev.data["deadline_id"] == dl.pk
    assert ev.data["deadline_kind"] == "accept"
    assert ev.data["due_on"] == "2031-01-15"
    assert ev.data["days_overdue"] == 5
    assert (ev.data["unit_id"], ev.data["unit"]) == (sup.street.pk, "东湖街道")
    assert ev.data["rule_id"] == EscalationRule.objects.get(code="supervise").pk
    assert sorted(ev.data["recipients"]) == sorted([sup.uma.pk, sup.alice.pk, sup.vera.pk])  # type: ignore[attr-defined]
    remind = CaseEvent.objects.get(case=case, kind="remind")
    assert remind.data["days_overdue"] == -6  # 9 → 15 Jan: 6 days left
    assert SupervisionStep.objects.filter(case=case).count() == 5
    assert all(s.event_id for s in SupervisionStep.objects.filter(case=case))


@pytest.mark.django_db
def test_a_late_first_run_takes_every_passed_stage_once(sup: World, register: Any) -> None:
    case, dl = assigned(sup, register)
    set_dates(dl, started=D(2031, 1, 6), due=D(2031, 1, 15))
    run = SW.run_sweep(D(2031, 3, 1))
    assert run.state == SweepRun.State.DONE
    assert Counter(_events(case)) == Counter(SWEEP_KINDS)
    assert run.created == 5


@pytest.mark.django_db
def test_steps_for_a_case_that_moved_on_are_skipped(sup: World, register: Any) -> None:
    case, dl = assigned(sup, register)
    set_dates(dl, started=D(2031, 1, 6), due=D(2031, 1, 15))
    S.case_sign_in(case=case, by=sup.hank)  # signed: no 签收提醒; the accept deadline stays open
    SW.run_sweep(D(2031, 1, 10))  # 3 working days before Wed 15 (no holiday here)
    assert _events(case) == ["remind"]
    S.case_accept(case=case, by=sup.hank, notice_text="经审查，决定受理。")  # accept met
    SW.run_sweep(D(2031, 1, 20))
    on_accept = CaseEvent.objects.filter(case=case, kind__in=SWEEP_KINDS, data__deadline_id=dl.pk)
    assert [e.kind for e in on_accept] == ["remind"]  # the met accept deadline: nothing more


@pytest.mark.django_db
def test_paused_and_closed_deadlines_are_not_swept(sup: World, register: Any) -> None:
    _, dl = assigned(sup, register)
    set_dates(dl, started=D(2031, 1, 6), due=D(2031, 1, 15))
    Deadline.objects.filter(pk=dl.pk).update(paused=True)
    assert SW.run_sweep(D(2031, 2, 1)).created == 0
    Deadline.objects.filter(pk=dl.pk).update(paused=False)
    assert SW.run_sweep(D(2031, 2, 1)).created == 5


@pytest.mark.django_db
def test_inactive_rule_does_not_fire(sup: World, register: Any) -> None:
    EscalationRule.objects.filter(code__in=["escalate", "sign_in_remind"]).update(active=False)
    case, dl = assigned(sup, register)
    set_dates(dl, started=D(2031, 1, 6), due=D(2031, 1, 15))
    SW.run_sweep(D(2031, 3, 1))
    assert sorted(_events(case)) == ["remind", "supervise", "urge"]


# --- idempotency ---------------------------------------------------------------------------------


def _many(sup: World, register: Any, n: int) -> list[Any]:
    cases = []
    for _ in range(n):
        case, dl = assigned(sup, register)
        set_dates(dl, started=D(2031, 1, 6), due=D(2031, 1, 15))
        cases.append(case)
    return cases


def _no_duplicates() -> None:
    dup = (
        CaseEvent.objects.filter(kind__in=SWEEP_KINDS)
        .values("data__deadline_id", "data__rule_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    assert not list(dup)
    assert CaseEvent.objects.filter(kind__in=SWEEP_KINDS).count() == SupervisionStep.objects.count()


@pytest.mark.django_db
def test_run_twice_creates_nothing_new(sup: World, register: Any) -> None:
    _many(sup, register, 3)
    first = SW.run_sweep(D(2031, 1, 20))
    assert first.created == 3 * 4  # sign-in, remind, urge, supervise
    events, notes = CaseEvent.objects.count(), Notification.objects.count()
    second = SW.run_sweep(D(2031, 1, 20))
    assert (second.created, second.notified) == (0, 0)
    assert (CaseEvent.objects.count(), Notification.objects.count()) == (events, notes)
    _no_duplicates()


@pytest.mark.django_db
def test_interrupted_run_then_rerun_misses_nothing(sup: World, register: Any) -> None:
    cases = _many(sup, register, 7)
    stopped = SW.run_sweep(D(2031, 3, 1), batch=3, stop_after=10)
    assert stopped.state == SweepRun.State.STOPPED
    assert stopped.examined == 10
    assert SupervisionStep.objects.count() == 10
    done = SW.run_sweep(D(2031, 3, 1), batch=3)
    assert done.state == SweepRun.State.DONE
    assert done.created == 7 * 5 - 10
    for case in cases:
        assert Counter(_events(case)) == Counter(SWEEP_KINDS)
    _no_duplicates()


@pytest.mark.django_db
def test_a_failing_batch_rolls_back_whole_and_the_rerun_completes(
    sup: World, register: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    cases = _many(sup, register, 5)
    real = SW._notify_rows
    calls = {"n": 0}

    def flaky(*args: Any, **kwargs: Any) -> int:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("邮件队列不可用")
        return real(*args, **kwargs)

    monkeypatch.setattr(SW, "_notify_rows", flaky)
    with pytest.raises(RuntimeError):
        SW.run_sweep(D(2031, 3, 1), batch=2)
    failed = SweepRun.objects.get()
    assert failed.state == SweepRun.State.FAILED
    assert "邮件队列不可用" in failed.error
    assert failed.finished_at is not None
    assert SupervisionStep.objects.count() == 4  # two whole batches; the third rolled back
    assert CaseEvent.objects.filter(kind__in=SWEEP_KINDS).count() == 4
    monkeypatch.setattr(SW, "_notify_rows", real)
    SW.run_sweep(D(2031, 3, 1), batch=2)
    for case in cases:
        assert Counter(_events(case)) == Counter(SWEEP_KINDS)
    _no_duplicates()


@needs_server_db
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_sweeps_make_no_duplicates(sup: World, register: Any) -> None:
    cases = _many(sup, register, 12)

    def work(i: int) -> int:
        return SW.run_sweep(D(2031, 3, 1), batch=5).created

    results = in_threads(4, work)
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors
    assert sum(results) == 12 * 5
    for case in cases:
        assert Counter(_events(case)) == Counter(SWEEP_KINDS)
    _no_duplicates()
    keys = Notification.objects.values("recipient_id", "dedupe_key").annotate(n=Count("id"))
    assert all(k["n"] == 1 for k in keys)


# --- recipients and notifications -------------------------------------------------------------


@pytest.mark.django_db
def test_recipients_of_each_stage(sup: World, register: Any) -> None:
    case, dl = assigned(sup, register)
    set_dates(dl, started=D(2031, 1, 6), due=D(2031, 1, 15))
    SW.run_sweep(D(2031, 3, 1))
    got: dict[str, set[str]] = {
        n.dedupe_key.split(":")[1]: set()
        for n in Notification.objects.filter(dedupe_key__startswith="sweep:")
    }
    for n in Notification.objects.filter(dedupe_key__startswith="sweep:"):
        got[n.dedupe_key.split(":")[1]].add(n.recipient.username)
    assert got == {
        "sign_in_remind": {"hank", "uma"},
        "remind": {"hank", "uma"},
        "urge": {"hank", "uma", "alice"},
        "supervise": {"uma", "alice", "vera"},
        "escalate": {"leo", "uma", "vera"},
    }
    key = f"sweep:urge:{dl.pk}"
    n = Notification.objects.filter(dedupe_key=key, recipient=sup.hank).get()
    assert n.case_id == case.pk
    assert case.number in n.title and "今日届满" not in n.title  # swept after the due date
    assert "已超期" in n.title
    assert "物业" in n.body  # the summary, for an ordinary case


@pytest.mark.django_db
def test_office_obligation_goes_to_the_office(sup: World, register: Any) -> None:
    case = register()
    dl = Deadline.objects.get(case=case, kind="route")
    set_dates(dl, started=D(2031, 1, 6), due=D(2031, 1, 15))
    SW.run_sweep(D(2031, 1, 15))
    ev = CaseEvent.objects.get(case=case, kind="urge")
    assert (ev.data["unit_id"], ev.data["deadline_kind"]) == (sup.office.pk, "route")
    assert ev.data["recipients"] == [sup.alice.pk]


@pytest.mark.django_db
def test_notifications_are_deduplicated_per_recipient_and_key(sup: World, register: Any) -> None:
    _, dl = assigned(sup, register)
    set_dates(dl, started=D(2031, 1, 6), due=D(2031, 1, 15))
    SW.run_sweep(D(2031, 1, 15))
    before = Notification.objects.count()
    # Even if a step row were lost, the notification's unique key would hold: drop the steps
    # and events' link and sweep again — no notification is stored twice.
    SupervisionStep.objects.all().delete()
    SW.run_sweep(D(2031, 1, 15))
    assert Notification.objects.count() == before


@pytest.mark.django_db
def test_accusation_notifications_carry_no_content(sup: World, register: Any) -> None:
    case, dl = assigned(
        sup,
        register,
        purpose="accusation",
        summary="举报某局长收受贿赂",
        content="某局长在工程招标中收受贿赂二十万元。",
    )
    set_dates(dl, started=D(2031, 1, 6), due=D(2031, 1, 15))
    SW.run_sweep(D(2031, 3, 1))
    notes = list(Notification.objects.filter(case=case))
    assert notes
    for n in notes:
        assert "局长" not in n.title and "局长" not in n.body and "贿赂" not in n.body
        assert "检举控告件" in n.body
    for ev in CaseEvent.objects.filter(case=case, kind__in=SWEEP_KINDS):
        assert "局长" not in ev.text


@pytest.mark.django_db
def test_accused_person_is_not_notified(sup: World, register: Any) -> None:
    case, dl = assigned(sup, register, purpose="accusation", summary="反映某干部作风问题")
    case.accused_persons.add(sup.leo)
    set_dates(dl, started=D(2031, 1, 6), due=D(2031, 1, 15))
    SW.run_sweep(D(2031, 3, 1))
    assert not Notification.objects.filter(case=case, recipient=sup.leo).exists()
    ev = CaseEvent.objects.get(case=case, kind="escalate")
    assert sup.leo.pk not in ev.data["recipients"]


@pytest.mark.django_db
def test_sweep_events_are_not_public() -> None:
    from xinfang.cases.transitions import EVENT_LABELS, PUBLIC_EVENT_KINDS

    for kind in SWEEP_KINDS:
        assert kind in EVENT_LABELS
        assert kind not in PUBLIC_EVENT_KINDS


@pytest.mark.django_db
def test_email_copies_after_commit_once(
    sup: World, register: Any, mailoutbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    sup.uma.email = "uma@example.org"
    sup.uma.save()
    case, dl = assigned(sup, register)
    set_dates(dl, started=D(2031, 1, 6), due=D(2031, 1, 15))
    with django_capture_on_commit_callbacks(execute=True):
        SW.run_sweep(D(2031, 1, 15))  # 签收提醒 (no e-mail), 临期提醒, 催办
    assert len(mailoutbox) == 2
    assert all(case.number in m.subject for m in mailoutbox)
    with django_capture_on_commit_callbacks(execute=True):
        SW.run_sweep(D(2031, 1, 15))
    assert len(mailoutbox) == 2
    assert (
        not Notification.objects.filter(recipient=sup.uma, emailed_at__isnull=True)
        .exclude(kind="sign_in_remind")
        .exists()
    )
