"""信息员 services (tag inf): the network, reports, urgent alerts, handling, escalation."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from tests.conftest import make_user
from tests.prevention._inf_util import make_net, urgent
from xinfang.audit.models import AuditEntry
from xinfang.core.errors import ConcurrentChange, DomainError, PermissionDenied
from xinfang.notify.models import Notification
from xinfang.org import roles as R
from xinfang.org.models import Membership
from xinfang.prevention import informants as I
from xinfang.prevention import policy
from xinfang.prevention.models import (
    Alert,
    Dispute,
    Informant,
    InformantReport,
    InformantReportEvent,
)

pytestmark = pytest.mark.django_db


# --- the network ---------------------------------------------------------------------------


def test_add_grants_the_post_with_an_audited_role_grant(world: Any) -> None:
    user = User.objects.create_user("zhao", password="Xf-test-pass-1", first_name="赵六")
    row = I.informant_add(world.uma, user=user, unit=world.community, phone="13800001234")
    assert row.is_active and row.since == timezone.localdate()
    assert Membership.objects.filter(
        user=user, unit=world.community, role__code=R.INFORMANT
    ).exists()
    assert AuditEntry.objects.filter(action="role_grant", summary__contains="zhao").exists()
    assert policy.is_informant(user)


def test_add_twice_is_refused_and_others_may_not_appoint(world: Any) -> None:
    net = make_net(world)
    with pytest.raises(DomainError) as exc:
        I.informant_add(world.uma, user=net.ivan, unit=world.community)
    assert "已是「东湖社区」的信息员" in exc.value.message and exc.value.field == "user"
    # bob (西山街道 承办人) and hank (承办人, not a head) may not appoint in 东湖社区
    for by in (world.bob, world.hank):
        with pytest.raises(PermissionDenied):
            I.informant_add(by, user=net.wang, unit=world.community)
    # leo (区领导, above) may
    assert I.informant_add(world.leo, user=net.wang, unit=world.community).pk


def test_case_officer_of_the_serving_office_may_appoint(world: Any) -> None:
    clerk = make_user("xu", world.street, R.CASE_OFFICER, "徐")  # 东湖街道 serves 东湖社区
    user = User.objects.create_user("qian", password="Xf-test-pass-1")
    assert I.informant_add(clerk, user=user, unit=world.community).pk
    # alice's office (区信访局) does not serve 东湖社区 (东湖街道 does)
    with pytest.raises(PermissionDenied):
        I.informant_add(world.alice, user=user, unit=world.street)


def test_staff_of_another_unit_cannot_be_appointed(world: Any, register: Any) -> None:
    """An accused street's head must not hide an accusation from the office's case officer by
    giving her a 信息员 post in the street (cases.confidential hides it from any post there)."""
    from xinfang.cases.policy import cases_visible_to

    case = register(
        purpose="accusation",
        summary="检举东湖街道干部",
        content="x",
        accused_unit_ids=[world.street.pk],
    )
    assert cases_visible_to(world.alice).filter(pk=case.pk).exists()
    for by, user in ((world.uma, world.alice), (world.uma, world.leo), (world.leo, world.bob)):
        with pytest.raises(DomainError) as exc:
            I.informant_add(by, user=user, unit=world.community)
        assert exc.value.message == I.ELSEWHERE and exc.value.field == "user"
    assert not Informant.objects.exists()
    alice = User.objects.get(pk=world.alice.pk)
    assert cases_visible_to(alice).filter(pk=case.pk).exists()
    # staff of the unit itself or below, and informant-only accounts, may be appointed
    cora = User.objects.get(username="cora")
    assert I.informant_add(world.uma, user=cora, unit=world.community).pk
    assert I.informant_add(world.uma, user=world.hank, unit=world.street).pk
    net = make_net(world)  # wang: 信息员 of 西山街道 only
    assert I.informant_add(world.leo, user=net.wang, unit=world.community).pk


def test_bad_phone_is_refused(world: Any) -> None:
    user = User.objects.create_user("sun", password="Xf-test-pass-1")
    with pytest.raises(DomainError) as exc:
        I.informant_add(world.uma, user=user, unit=world.community, phone="12ab")
    assert exc.value.field == "phone"
    assert not Informant.objects.filter(user=user).exists()


def test_end_keeps_the_row_and_removes_the_post_only_when_unused(world: Any) -> None:
    net = make_net(world)
    row = Informant.objects.get(user=net.ivan, unit=world.community)
    with pytest.raises(DomainError) as exc:
        I.informant_end(world.uma, row, "")
    assert exc.value.field == "reason"
    with pytest.raises(PermissionDenied):
        I.informant_end(world.bob, row, "调离")
    I.informant_end(world.uma, row, "调离本社区")
    row.refresh_from_db()
    assert not row.is_active and row.ended_at is not None and "调离本社区" in row.note
    assert not Membership.objects.filter(user=net.ivan, role__code=R.INFORMANT).exists()
    assert AuditEntry.objects.filter(action="role_revoke").exists()
    with pytest.raises(ConcurrentChange):
        I.informant_end(world.uma, row, "再次")
    # re-appointing later is allowed (one ACTIVE row per user × unit)
    again = I.informant_add(world.uma, user=net.ivan, unit=world.community)
    assert again.pk != row.pk


# --- reports -------------------------------------------------------------------------------


def test_report_for_a_unit_not_mine_is_refused(world: Any) -> None:
    net = make_net(world)
    with pytest.raises(DomainError) as exc:
        I.report_submit(
            net.ivan, unit=world.sibling, urgency="routine", title="西山的事", text="情况"
        )
    assert exc.value.message.startswith("您不是「西山街道」的信息员，不能报送该单位的信息")
    assert exc.value.field == "unit"
    # the unit above mine is not mine either
    with pytest.raises(DomainError):
        I.report_submit(net.ivan, unit=world.street, urgency="routine", title="t", text="x")
    assert not InformantReport.objects.exists()


def test_informant_of_a_street_may_report_for_units_under_it(world: Any) -> None:
    user = User.objects.create_user("li", password="Xf-test-pass-1")
    I.informant_add(world.uma, user=user, unit=world.street)
    r = I.report_submit(
        user, unit=world.community, urgency="routine", title="邻里纠纷", text="两户噪音纠纷"
    )
    assert r.informant.unit == world.street
    assert [u.name for u in I.report_units(user)] == ["东湖街道", "东湖社区"]


def test_urgent_needs_a_signal_and_routine_must_not_have_one(world: Any) -> None:
    net = make_net(world)
    with pytest.raises(DomainError) as exc:
        urgent(world, net.ivan, signal="")
    assert exc.value.field == "signal" and "紧急报告须选择紧急情形" in exc.value.message
    with pytest.raises(DomainError) as exc:
        I.report_submit(
            net.ivan,
            unit=world.community,
            urgency="routine",
            signal="collective",
            title="t",
            text="x",
        )
    assert exc.value.field == "signal" and "日常报告不选紧急情形" in exc.value.message
    cases: list[tuple[str, dict[str, Any]]] = [
        ("title", {"title": " "}),
        ("text", {"text": ""}),
        ("headcount", {"headcount": 0}),
        ("urgency", {"urgency": "soon"}),
    ]
    for field, kwargs in cases:
        with pytest.raises(DomainError) as exc:
            urgent(world, net.ivan, **kwargs)
        assert exc.value.field == field
    assert not InformantReport.objects.exists() and not Alert.objects.exists()


def test_routine_report_raises_no_alert(world: Any) -> None:
    net = make_net(world)
    r = I.report_submit(
        net.ivan, unit=world.community, urgency="routine", title="物业纠纷", text="情况说明"
    )
    assert r.state == "new" and not Alert.objects.exists()
    assert list(r.events.values_list("kind", flat=True)) == ["create"]


def test_urgent_raises_one_alert_with_owner_severity_and_notifications(world: Any) -> None:
    net = make_net(world)
    r = urgent(world, net.ivan, client_key="k-1")
    alert = Alert.objects.get()
    assert alert.rule == "informant_urgent" and alert.severity == "orange"
    assert alert.owner == world.leo  # no roster: the leader over 东湖街道 (the serving office)
    assert alert.informant_report == r and alert.unit == world.community
    assert alert.dedupe_key == f"informant-{r.pk}"
    notes = Notification.objects.filter(kind="alert")
    assert set(notes.values_list("recipient__username", flat=True)) == {"leo"}
    assert notes.get().title.startswith("【橙色（严重）预警】拟集体上访")
    # a double tap: the same key returns the first report; nothing more is raised or sent
    again = urgent(world, net.ivan, client_key="k-1")
    assert again.pk == r.pk
    assert InformantReport.objects.count() == 1 and Alert.objects.count() == 1
    assert Notification.objects.filter(kind="alert").count() == 1


def test_red_signal_and_on_duty_leader_and_office_case_officers(world: Any) -> None:
    from xinfang.reception.models import DutyRoster

    net = make_net(world)
    deputy = make_user("dan", world.street, R.LEADER, "丹")
    clerk = make_user("xu", world.street, R.CASE_OFFICER, "徐")
    DutyRoster.objects.create(office=world.street, day=timezone.localdate(), leader=deputy)
    urgent(world, net.ivan, signal="capital", title="有人拟进京上访")
    alert = Alert.objects.get()
    assert alert.severity == "red" and alert.owner == deputy
    got = set(Notification.objects.filter(kind="alert").values_list("recipient_id", flat=True))
    assert {deputy.pk, clerk.pk} <= got


def test_someone_elses_client_key_is_refused(world: Any) -> None:
    net = make_net(world)
    urgent(world, net.ivan, client_key="same")
    with pytest.raises(DomainError) as exc:
        I.report_submit(
            net.wang,
            unit=world.sibling,
            urgency="routine",
            title="t",
            text="x",
            client_key="same",
        )
    assert exc.value.field == "client_key"


def test_client_key_taken_by_someone_else_in_a_race_is_refused(
    world: Any, monkeypatch: Any
) -> None:
    """The pre-check finds no report; another informant files one with the same key before
    the insert; the IntegrityError fallback must not hand that report to this user."""
    net = make_net(world)
    real = I.active_informant_for
    raced: list[Any] = []

    def racing(user: Any, unit: Any) -> Any:
        if not raced:
            raced.append(None)
            raced.append(
                I.report_submit(
                    net.wang,
                    unit=world.sibling,
                    urgency="routine",
                    title="西山",
                    text="情况",
                    client_key="race",
                )
            )
        return real(user, unit)

    monkeypatch.setattr(I, "active_informant_for", racing)
    with pytest.raises(DomainError) as exc:
        urgent(world, net.ivan, client_key="race")
    assert exc.value.field == "client_key"
    assert raced[1] is not None
    owners = list(InformantReport.objects.values_list("informant__user", flat=True))
    assert owners == [net.wang.pk]


def test_staff_sms_logs_a_masked_number(world: Any, caplog: Any) -> None:
    net = make_net(world)
    with caplog.at_level(logging.INFO, logger="xinfang.notify.messages"):
        assert I.send_staff_sms([net.ivan, world.leo], "测试短信") == 2
    text = caplog.text
    assert "139****1111" in text and "13900001111" not in text
    assert "（未登记手机）" in text


# --- handling ------------------------------------------------------------------------------


def test_acknowledge_moves_report_and_alert_once(world: Any) -> None:
    net = make_net(world)
    r = urgent(world, net.ivan)
    I.report_acknowledge(world.leo, r)
    r.refresh_from_db()
    assert r.state == "acknowledged" and r.acknowledged_by == world.leo
    alert = Alert.objects.get()
    assert alert.state == "acknowledged" and alert.acknowledged_by == world.leo
    with pytest.raises(ConcurrentChange) as exc:
        I.report_acknowledge(world.uma, r)
    assert "已由黎奥确认" in exc.value.message
    assert r.events.filter(kind="ack").count() == 1


def test_outside_scope_may_not_acknowledge(world: Any) -> None:
    net = make_net(world)
    r = urgent(world, net.ivan)
    for who in (world.bob, world.hank, net.ivan):
        with pytest.raises(PermissionDenied) as exc:
            I.report_acknowledge(who, r)
        assert exc.value.message.startswith("该报告不在您的职责范围内")
    r.refresh_from_db()
    assert r.state == "new" and Alert.objects.get().state == "open"
    # bob does not even see it
    assert not policy.informant_reports_visible_to(world.bob).filter(pk=r.pk).exists()


def test_note_dispute_and_close(world: Any) -> None:
    net = make_net(world)
    r = urgent(world, net.ivan)
    with pytest.raises(DomainError):
        I.report_note(world.uma, r, " ")
    I.report_note(world.uma, r, "已安排社区书记上门做工作")
    d = I.report_to_dispute(
        world.uma,
        r,
        parties="拆迁安置户\n东湖街道征收办",
        risk_level="high",
    )
    assert isinstance(d, Dispute) and d.source == "informant" and d.informant_report == r
    assert d.unit == world.community and d.headcount == 30
    r.refresh_from_db()
    assert r.state == "acknowledged"  # registering it acknowledges it
    assert r.events.filter(kind="dispute", data__dispute=d.pk).exists()
    # twice: the same dispute
    assert I.report_to_dispute(world.uma, r, parties="x", risk_level="high").pk == d.pk
    with pytest.raises(DomainError) as exc:
        I.report_close(world.uma, r, "")
    assert exc.value.field == "outcome"
    I.report_close(world.uma, r, "已登记台账，劝返成功")
    r.refresh_from_db()
    assert r.state == "closed" and r.handling == "已登记台账，劝返成功"
    assert Alert.objects.get().state == "closed"
    with pytest.raises(ConcurrentChange):
        I.report_close(world.uma, r, "again")
    with pytest.raises(DomainError):
        I.report_note(world.uma, r, "late")
    kinds = list(r.events.values_list("kind", flat=True))
    assert kinds == ["create", "note", "ack", "dispute", "close"]


def test_informant_sees_only_own_reports(world: Any) -> None:
    net = make_net(world)
    mine = urgent(world, net.ivan)
    other = I.report_submit(
        net.wang, unit=world.sibling, urgency="routine", title="西山", text="情况"
    )
    assert list(policy.informant_reports_visible_to(net.ivan)) == [mine]
    assert list(policy.informant_reports_visible_to(net.wang)) == [other]
    assert set(policy.informant_reports_visible_to(world.leo)) == {mine, other}


# --- escalation ----------------------------------------------------------------------------


def _ladder(world: Any) -> None:
    """领导 at 东湖社区 and 东湖街道: the ladder is 东湖社区 → 东湖街道 → 示范区 (root, leo)."""
    make_user("shequ_ld", world.community, R.LEADER, "社区书记")
    make_user("jiedao_ld", world.street, R.LEADER, "街道书记")


def _steps(report: Any) -> list[Any]:
    return list(
        InformantReportEvent.objects.filter(report=report, kind="escalate")
        .order_by("at", "id")
        .values_list("data__step", flat=True)
    )


def test_unacknowledged_urgent_reports_escalate_once_per_step(world: Any) -> None:
    _ladder(world)
    net = make_net(world)
    t0 = timezone.now() - dt.timedelta(hours=2)
    r = urgent(world, net.ivan, at=t0)
    assert I.urgent_unacknowledged(t0 + dt.timedelta(minutes=10)) == 0
    assert I.urgent_unacknowledged(t0 + dt.timedelta(minutes=31)) == 1
    assert I.urgent_unacknowledged(t0 + dt.timedelta(minutes=40)) == 0  # same step
    assert I.urgent_unacknowledged(t0 + dt.timedelta(minutes=61)) == 1  # next step
    assert _steps(r) == [1, 2]
    units = list(
        InformantReportEvent.objects.filter(report=r, kind="escalate")
        .order_by("at", "id")
        .values_list("data__unit", flat=True)
    )
    assert units == [world.street.pk, world.district.pk]
    assert Notification.objects.filter(kind="urgent_report", recipient=world.leo).count() == 1
    I.report_acknowledge(world.leo, r)
    assert I.urgent_unacknowledged(t0 + dt.timedelta(minutes=95)) == 0


def test_escalation_stops_at_the_root_then_reminds_daily(world: Any) -> None:
    """A weekend with cron every 30 minutes: one escalation to the root, then a daily reminder
    (was 96 escalations, each an e-mail and an SMS to leo)."""
    net = make_net(world)  # no leader below the district: the first step is the root
    t0 = timezone.now() - dt.timedelta(days=2)
    r = urgent(world, net.ivan, at=t0)
    sent = sum(I.urgent_unacknowledged(t0 + dt.timedelta(minutes=30 * k)) for k in range(1, 97))
    assert sent == 2  # step 1 (the root) + one reminder a day later
    events = list(InformantReportEvent.objects.filter(report=r, kind="escalate").order_by("at"))
    assert [e.data["final"] for e in events] == [True, True]
    assert [e.data["reminder"] for e in events] == [False, True]
    assert events[1].at - events[0].at == dt.timedelta(days=1)
    assert Notification.objects.filter(kind="urgent_report", recipient=world.leo).count() == 2


def test_a_missed_run_climbs_one_level_not_to_the_root(world: Any) -> None:
    _ladder(world)
    net = make_net(world)
    t0 = timezone.now() - dt.timedelta(hours=5)
    r = urgent(world, net.ivan, at=t0)
    # the first run after a 3-hour outage alerts the first level above, not the root
    assert I.urgent_unacknowledged(t0 + dt.timedelta(hours=3)) == 1
    assert I.urgent_unacknowledged(t0 + dt.timedelta(hours=3, minutes=10)) == 0
    ev = InformantReportEvent.objects.get(report=r, kind="escalate")
    assert ev.data["step"] == 1 and ev.data["unit"] == world.street.pk and not ev.data["final"]
    assert not Notification.objects.filter(kind="urgent_report", recipient=world.leo).exists()
    assert I.urgent_unacknowledged(t0 + dt.timedelta(hours=3, minutes=30)) == 1
    assert _steps(r) == [1, 2]


def test_max_steps_parameter_ends_the_ladder(world: Any) -> None:
    from xinfang.prevention.models import WarningRule

    rule = WarningRule.objects.get(code="informant_urgent")
    rule.params = {**(rule.params or {}), "max_steps": 1}
    rule.save()
    _ladder(world)
    net = make_net(world)
    t0 = timezone.now() - dt.timedelta(hours=5)
    r = urgent(world, net.ivan, at=t0)
    for k in range(1, 9):
        I.urgent_unacknowledged(t0 + dt.timedelta(minutes=30 * k))
    assert _steps(r) == [1]
    ev = InformantReportEvent.objects.get(report=r, kind="escalate")
    assert ev.data["final"] and ev.data["unit"] == world.street.pk


def test_escalate_command(world: Any) -> None:
    from io import StringIO

    from django.core.management import call_command

    net = make_net(world)
    urgent(world, net.ivan, at=timezone.now() - dt.timedelta(minutes=45))
    out = StringIO()
    call_command("informant_escalate", stdout=out)
    assert "1 件" in out.getvalue()
