"""领导接待日: planning, bookings (capacity, duplicates, case link), 签到, the reception record
with its case event, the booking receiver, scoping and the pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.conftest import VALID_ID, World
from xinfang.cases.models import CaseEvent
from xinfang.cases.signals import desk_case_registered
from xinfang.core.errors import ConcurrentChange, DomainError, PermissionDenied
from xinfang.people.services import PetitionerInput
from xinfang.reception import services as S
from xinfang.reception.models import Booking, BookingState, DayState

OTHER_ID = "110105198001010016"


def make_day(world: World, **over: Any) -> Any:
    values: dict[str, Any] = {
        "leader": world.leo,
        "date": timezone.localdate() + dt.timedelta(days=3),
        "start_time": dt.time(9),
        "end_time": dt.time(11, 30),
        "place": "区信访局一楼接待室",
        "topics": "征地拆迁",
        "capacity": 3,
    }
    values.update(over)
    return S.day_create(office=world.office, by=world.rita, **values)


def person(name: str = "张三", id_number: str = VALID_ID) -> PetitionerInput:
    return PetitionerInput(name=name, id_number=id_number)


def test_day_create_guards(world: World) -> None:
    d = make_day(world)
    assert d.state == DayState.PLANNED and d.leader == world.leo
    with pytest.raises(DomainError) as e:
        make_day(world, leader=world.hank)
    assert e.value.field == "leader"
    with pytest.raises(DomainError) as e:
        make_day(world, end_time=dt.time(8))
    assert e.value.field == "end_time"
    with pytest.raises(DomainError) as e:
        make_day(world, date=timezone.localdate() - dt.timedelta(days=1))
    assert e.value.field == "date"
    with pytest.raises(PermissionDenied):
        S.day_create(office=world.office, by=world.leo, leader=world.leo, date=d.date)


def test_capacity_and_duplicates(world: World) -> None:
    d = make_day(world)
    b1 = S.booking_create(day=d, by=world.rita, topic="拆迁补偿", headcount=2, person=person())
    assert b1.order == 1 and b1.petitioner.id_number == VALID_ID
    with pytest.raises(DomainError) as e:
        S.booking_create(day=d, by=world.alice, topic="再约", person=person())
    assert "已预约本场接待（第 1 号）" in e.value.message
    with pytest.raises(DomainError) as e:
        S.booking_create(
            day=d, by=world.rita, topic="另一人", headcount=2, person=person("李四", OTHER_ID)
        )
    assert e.value.message == "本场接待已约满（3人）" and e.value.field == "headcount"
    b2 = S.booking_create(day=d, by=world.rita, topic="另一人", person=person("李四", OTHER_ID))
    assert b2.order == 2
    # a cancelled booking frees its places and the person may book again
    S.booking_cancel(booking=b1, by=world.rita)
    b3 = S.booking_create(day=d, by=world.rita, topic="拆迁补偿", headcount=2, person=person())
    assert b3.order == 3
    with pytest.raises(DomainError) as e:
        S.day_update(day=d, by=world.rita, **_day_values(d, capacity=2))
    assert e.value.field == "capacity"
    with pytest.raises(DomainError):
        S.booking_create(day=d, by=world.rita, topic="没有人")


def _day_values(d: Any, **over: Any) -> dict[str, Any]:
    values = {
        "leader": d.leader,
        "date": d.date,
        "start_time": d.start_time,
        "end_time": d.end_time,
        "place": d.place,
        "topics": d.topics,
        "capacity": d.capacity,
    }
    values.update(over)
    return values


def test_booking_from_a_case_arrive_record(world: World, register: Any) -> None:
    case = register()
    d = make_day(world)
    b = S.booking_create(day=d, by=world.rita, topic="物业费", case=case)
    assert b.case_id == case.pk and b.petitioner_id == case.parties.first().petitioner_id
    with pytest.raises(DomainError) as e:
        S.booking_record(booking=b, by=world.leo, record="请街道核实")
    assert e.value.message == "请先为来访人签到"
    S.booking_arrive(booking=b, by=world.rita)
    with pytest.raises(ConcurrentChange):
        S.booking_arrive(booking=b, by=world.alice)
    with pytest.raises(PermissionDenied):
        S.booking_record(booking=b, by=world.hank, record="不相干的人")
    ev = S.booking_record(
        booking=b, by=world.leo, record="请东湖街道十日内核实答复", attendees="区信访局 艾丽"
    )
    assert ev.kind == "leader_reception" and ev.text == "请东湖街道十日内核实答复"
    assert ev.data["leader_id"] == world.leo.pk and ev.data["day_id"] == d.pk
    b.refresh_from_db()
    d.refresh_from_db()
    assert b.state == BookingState.RECEIVED and d.state == DayState.HELD
    with pytest.raises(ConcurrentChange):
        S.booking_record(booking=b, by=world.leo, record="再记一次")
    assert CaseEvent.objects.filter(case=case, kind="leader_reception").count() == 1


def test_record_needs_a_case_and_link(world: World, register: Any) -> None:
    d = make_day(world)
    b = S.booking_create(day=d, by=world.rita, topic="物业费", person=person())
    S.booking_arrive(booking=b, by=world.rita)
    with pytest.raises(DomainError) as e:
        S.booking_record(booking=b, by=world.rita, record="意见")
    assert e.value.field == "case"
    case = register()
    S.booking_link_case(booking=b, case=case, by=world.rita)
    with pytest.raises(PermissionDenied):
        S.booking_link_case(booking=b, case=case, by=world.bob)
    S.booking_record(booking=b, by=world.rita, record="领导意见：依法处理")
    assert case.events.filter(kind="leader_reception").exists()


def test_receiver_links_booking(world: World, register: Any) -> None:
    d = make_day(world)
    b = S.booking_create(day=d, by=world.rita, topic="物业费", person=person())
    case = register(channel="leader_day")
    desk_case_registered.send(sender=None, case=case, visit_id=None, booking_id=b.pk, by=world.rita)
    b.refresh_from_db()
    assert b.case_id == case.pk
    other = register()
    desk_case_registered.send(
        sender=None, case=other, visit_id=None, booking_id=b.pk, by=world.rita
    )
    b.refresh_from_db()
    assert b.case_id == case.pk  # already linked: kept


def test_cancel_day(world: World) -> None:
    d = make_day(world)
    b = S.booking_create(day=d, by=world.rita, topic="物业费", person=person())
    S.day_cancel(day=d, by=world.alice, note="领导临时公务")
    b.refresh_from_db()
    assert b.state == BookingState.CANCELLED
    with pytest.raises(ConcurrentChange):
        S.day_cancel(day=d, by=world.alice)
    with pytest.raises(DomainError):
        S.booking_create(day=d, by=world.rita, topic="物业费", person=person())


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_day_pages_and_scoping(world: World, register: Any, dora: Any) -> None:
    case = register()
    c = _client(world.rita)
    date = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    form = {
        "leader": str(world.leo.pk),
        "date": date,
        "start_time": "09:00",
        "end_time": "08:00",
        "place": "接待室",
        "capacity": "5",
    }
    bad = c.post("/reception/days/new/", form).content.decode()
    assert "结束时间须晚于开始时间" in bad and "接待室" in bad
    r = c.post("/reception/days/new/", form | {"end_time": "11:00"})
    assert r.status_code == 302
    d = S.days_visible_to(world.rita).get()
    r = c.post(
        f"/reception/days/{d.pk}/bookings/",
        {
            "name": "张三",
            "id_number": VALID_ID,
            "phone": "13812345678",
            "topic": "物业费",
            "headcount": "1",
        },
    )
    assert r.status_code == 302
    b = Booking.objects.get()
    page = c.get(f"/reception/days/{d.pk}/").content.decode()
    assert "张三" in page and VALID_ID not in page and "13812345678" not in page
    dup = c.post(
        f"/reception/days/{d.pk}/bookings/",
        {"name": "张三", "id_number": VALID_ID, "topic": "再来", "headcount": "1"},
    ).content.decode()
    assert "已预约本场接待" in dup and "再来" in dup
    c.post(f"/reception/bookings/{b.pk}/arrive/")
    c.post(f"/reception/bookings/{b.pk}/link/", {"case_number": case.number})
    b.refresh_from_db()
    assert b.state == BookingState.ARRIVED and b.case_id == case.pk
    leo = _client(world.leo)
    assert leo.get("/reception/days/").status_code == 200
    r = leo.post(
        f"/reception/bookings/{b.pk}/record/", {"record": "请街道核实", "attendees": "艾丽"}
    )
    assert r.status_code == 302
    printed = leo.get(f"/reception/bookings/{b.pk}/print/").content.decode()
    assert "领导接待记录" in printed and "请街道核实" in printed
    timeline = c.get(f"/cases/{case.pk}/").content.decode()
    assert "领导接待" in timeline and "请街道核实" in timeline
    listed = c.get(
        "/reception/days/", {"month": date[:7], "leader": str(world.leo.pk)}
    ).content.decode()
    assert "接待室" in listed
    assert c.get("/reception/days/", {"month": "x", "leader": "9" * 30}).status_code == 200
    # another office's clerk, a handler: 404
    for user in (dora, world.hank, world.bob):
        assert _client(user).get(f"/reception/days/{d.pk}/").status_code == 404
        assert _client(user).post(f"/reception/bookings/{b.pk}/arrive/").status_code == 404
    assert _client(world.hank).get("/reception/days/").status_code == 404
