"""包案 (who may, one active per case, events, the leader's dashboard and deadlines), the duty
roster with its fallback, and the 集体访 alert to the on-duty leader (exactly once)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.conftest import World, make_user
from xinfang.cases.models import Case, CaseEvent, Deadline
from xinfang.core.errors import DomainError, PermissionDenied
from xinfang.notify.models import Notification
from xinfang.org import roles as R
from xinfang.reception import services as S
from xinfang.reception.duty import on_duty_leaders
from xinfang.reception.receivers import collective_alert


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_assign_and_end_by_case_officer(world: World, register: Any) -> None:
    case = register()
    own = S.case_assign_owner(case=case, leader=world.leo, by=world.alice, note="重点跟进")
    ev = CaseEvent.objects.get(case=case, kind="ownership")
    assert ev.data["leader_id"] == world.leo.pk and "重点跟进" in ev.text
    assert Notification.objects.filter(recipient=world.leo, kind="ownership").count() == 1
    with pytest.raises(DomainError) as e:
        S.case_assign_owner(case=case, leader=world.leo, by=world.alice)
    assert "已由黎奥包案" in e.value.message
    with pytest.raises(PermissionDenied):
        S.case_end_owner(case=case, by=world.rita)
    S.case_end_owner(case=case, by=world.leo, note="已化解")
    own.refresh_from_db()
    assert own.ended_at is not None and own.ended_by == world.leo
    assert case.events.filter(kind="ownership_end").count() == 1
    S.case_assign_owner(case=case, leader=world.leo, by=world.leo)  # a new one after the end
    assert S.active_owner(case).assigned_by == world.leo  # type: ignore[union-attr]


def test_who_may_assign(world: World, register: Any) -> None:
    case = register()
    lena = make_user("lena", world.district, R.LEADER, "莉娜")
    for who in (world.rita, world.hank, world.uma, world.bob):
        with pytest.raises(PermissionDenied):
            S.case_assign_owner(case=case, leader=world.leo, by=who)
    with pytest.raises(PermissionDenied):  # a leader takes a case for themselves only
        S.case_assign_owner(case=case, leader=lena, by=world.leo)
    with pytest.raises(DomainError) as e:  # the owner must be a leader over the case
        S.case_assign_owner(case=case, leader=world.hank, by=world.alice)
    assert e.value.field == "leader"
    sib_leader = make_user("sil", world.sibling, R.LEADER, "西山领导")
    with pytest.raises(PermissionDenied):  # cannot see the district office's case
        S.case_assign_owner(case=case, leader=sib_leader, by=sib_leader)
    S.case_assign_owner(case=case, leader=lena, by=world.alice)
    assert S.active_owner(case).leader == lena  # type: ignore[union-attr]


def test_dashboard_and_mine(world: World, register: Any) -> None:
    a, b = register(summary="反映甲事项"), register(summary="反映乙事项")
    S.case_assign_owner(case=a, leader=world.leo, by=world.alice)
    S.case_assign_owner(case=b, leader=world.leo, by=world.leo)
    Deadline.objects.filter(case=a).update(due_on=timezone.localdate() - dt.timedelta(days=1))
    Deadline.objects.filter(case=b).update(due_on=timezone.localdate() + dt.timedelta(days=1))
    leo = _client(world.leo)
    home = leo.get("/").content.decode()
    assert "我包案的事项" in home and a.number in home and b.number in home
    assert "超期 1 件" in home and "dl-overdue" in home and "dl-due_soon" in home
    mine = leo.get("/reception/mine/", {"q": "甲"}).content.decode()
    assert a.number in mine and b.number not in mine
    assert "我包案的事项" not in _client(world.alice).get("/").content.decode()
    assert _client(world.alice).get("/reception/mine/").status_code == 404
    # the case page panel: the owner, and the officer's end form
    page = _client(world.alice).get(f"/cases/{a.pk}/").content.decode()
    assert "包案领导" in page and "黎奥" in page and "结束包案" in page


def test_panel_assign_through_views(world: World, register: Any) -> None:
    case = register()
    alice = _client(world.alice)
    page = alice.get(f"/cases/{case.pk}/").content.decode()
    assert "安排包案" in page
    r = alice.post(f"/reception/cases/{case.pk}/owner/", {"leader": str(world.leo.pk)})
    assert r.status_code == 302 and S.active_owner(case) is not None
    assert _client(world.bob).post(f"/reception/cases/{case.pk}/owner/end/").status_code == 404
    r = _client(world.leo).post(f"/reception/cases/{case.pk}/owner/end/", {"note": ""})
    assert r.status_code == 302 and S.active_owner(case) is None
    leo_page = _client(world.leo).get(f"/cases/{case.pk}/").content.decode()
    assert "我来包案" in leo_page


def test_duty_roster_and_fallback(world: World) -> None:
    today = timezone.localdate()
    assert on_duty_leaders(world.office, today) == [world.leo]  # leaders over the office
    lena = make_user("lena", world.district, R.LEADER, "莉娜")
    S.roster_add(office=world.office, day=today, leader=lena, by=world.rita)
    assert on_duty_leaders(world.office, today) == [lena]
    assert set(on_duty_leaders(world.office, today + dt.timedelta(days=1))) == {world.leo, lena}
    with pytest.raises(DomainError):
        S.roster_add(office=world.office, day=today, leader=lena, by=world.rita)
    with pytest.raises(DomainError):
        S.roster_add(office=world.office, day=today, leader=world.hank, by=world.rita)
    with pytest.raises(PermissionDenied):
        S.roster_add(office=world.office, day=today, leader=lena, by=world.hank)
    page = _client(world.rita).get("/reception/duty/").content.decode()
    assert "莉娜" in page
    r = _client(world.rita).post(
        "/reception/duty/", {"day": today.isoformat(), "leader": str(world.leo.pk)}
    )
    assert r.status_code == 302
    assert set(on_duty_leaders(world.office, today)) == {world.leo, lena}


def test_collective_alert_once(
    world: World, register: Any, django_capture_on_commit_callbacks: Any
) -> None:
    lena = make_user("lena", world.district, R.LEADER, "莉娜")
    lena.email = "lena@example.cn"
    lena.save()
    S.roster_add(office=world.office, day=timezone.localdate(), leader=lena, by=world.rita)
    with django_capture_on_commit_callbacks(execute=True):
        case = register(channel="collective_visit", headcount=12, summary="某小区业主反映停车问题")
    rows = Notification.objects.filter(kind="collective_visit")
    assert [n.recipient_id for n in rows] == [lena.pk]
    assert rows[0].title.startswith("集体访：某小区业主反映停车问题 12人")
    ev = CaseEvent.objects.get(case=case, kind="collective_alert")
    assert "莉娜" in ev.text and ev.data["leader_ids"] == [lena.pk]
    collective_alert(sender=Case, case=case)  # again (a retry): nothing new
    assert Notification.objects.filter(kind="collective_visit").count() == 1
    assert CaseEvent.objects.filter(kind="collective_alert").count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        plain = register()
    assert not CaseEvent.objects.filter(case=plain, kind="collective_alert").exists()


def test_collective_accusation_title_is_confidential(world: World, register: Any) -> None:
    case = register(purpose="accusation", headcount=6, summary="检举某科长收受贿赂")
    collective_alert(sender=Case, case=case)
    n = Notification.objects.get(kind="collective_visit")
    assert "收受贿赂" not in n.title and "【检举控告件】" in n.title


def test_event_kinds_are_labelled_and_internal() -> None:
    from xinfang.cases.transitions import EVENT_LABELS, PUBLIC_EVENT_KINDS

    for kind in ("leader_reception", "ownership", "ownership_end", "collective_alert"):
        assert kind in EVENT_LABELS and kind not in PUBLIC_EVENT_KINDS
