"""Review of issue 5 (reception desk): regression tests for the seams and security defects
fixed in the review — confidentiality of 检举控告 parties at the desk, the clerk's 终结 decision,
回避 in 包案 / leader days / the collective alert, and double submits."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.conftest import World, make_user, register_form, registration
from xinfang.cases import services as CS
from xinfang.cases.models import Case, CaseEvent, Category, Status
from xinfang.cases.registration import case_register
from xinfang.core.errors import DomainError
from xinfang.notify.models import Notification
from xinfang.org import roles as R
from xinfang.reception import services as S
from xinfang.reception.models import Booking, ReceptionDay
from xinfang.reception.receivers import collective_alert

ACCUSER_ID = "110105198001010016"
OPINION = "经复核，维持复查意见，本事项终结。"


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _accusation(world: World, **over: Any) -> Case:
    """A 检举控告件 of 区信访局 (the accuser 王五), assigned to 东湖街道."""
    from xinfang.people.services import PetitionerInput

    values: dict[str, Any] = {
        "purpose": "accusation",
        "summary": "检举某干部收受贿赂",
        "petitioners": [PetitionerInput(name="王五", id_number=ACCUSER_ID, phone="13900001111")],
    }
    values.update(over)
    case = case_register(by=world.rita, office=world.office, reg=registration(**values))
    CS.case_assign(case=case, by=world.alice, unit=world.street)
    return case


def _no_people(key: str, **fields: Any) -> dict[str, Any]:
    data = register_form(key, **fields)
    data["p-0-name"] = ""
    return data


# --- known persons at the desk -----------------------------------------------------------------


def test_accuser_is_not_prefilled_for_a_clerk_of_the_handling_unit(world: World) -> None:
    """東湖街道's desk clerk sees the 检举控告件 (handled there) but its parties only through the
    audited reveal: ``?person=<accuser>`` must not show the name nor register them."""
    dora = make_user("dora", world.street, R.RECEPTIONIST, "朵拉")
    case = _accusation(world)
    accuser = case.parties.get().petitioner
    c = _client(dora)
    page = c.get(reverse("case_register") + f"?person={accuser.pk}").content.decode()
    assert "王五" not in page and 'name="known_person"' not in page
    assert "信访人不存在或不在您的权限范围内" in page
    post = c.post(reverse("case_register"), _no_people("k-acc", known_person=str(accuser.pk)))
    assert "信访人不存在或不在您的权限范围内" in post.content.decode()
    assert Case.objects.count() == 1
    with pytest.raises(DomainError) as err:  # the API / service path
        case_register(
            by=dora,
            office=world.street,
            reg=registration(petitioners=[], known_petitioner_ids=[accuser.pk]),
        )
    assert err.value.field == "known_person"


def test_a_party_of_an_open_case_is_still_prefilled(world: World, register: Any) -> None:
    first = register()
    person = first.parties.get().petitioner
    _accusation(world)  # an unrelated 检举控告件 does not change anything for 张三
    page = _client(world.rita).get(reverse("case_register") + f"?person={person.pk}")
    assert f'name="known_person" value="{person.pk}"' in page.content.decode()


# --- 终结 → 告知: the clerk's decision on the final case shown ---------------------------------


def _final_case(world: World, category_id: int) -> Case:
    from tests.conftest import serve_reply

    case = case_register(
        by=world.rita, office=world.office, reg=registration(category_id=category_id)
    )
    CS.case_assign(case=case, by=world.alice, unit=world.street)
    CS.case_sign_in(case=case, by=world.hank)
    CS.case_accept(case=case, by=world.hank, notice_text="经审查，决定受理。")
    serve_reply(world, case)
    CS.case_request_review(case=case, by=world.rita, reason="对答复不服，请求复查")
    CS.case_decide_review(case=case, by=world.alice, text="经复查，维持原答复意见。")
    CS.case_request_rereview(case=case, by=world.rita, reason="对复查意见不服")
    CS.case_decide_rereview(case=case, by=world.alice, text=OPINION)
    case.refresh_from_db()
    assert case.status == Status.FINAL
    return case


def test_inform_ticked_on_the_final_case_shown_is_not_ignored(world: World) -> None:
    """The lookup's "就此事项再次登记" names a later, non-final case of the person as related;
    the panel finds the final matter of the same category and the clerk confirms 告知. Before
    the fix the service's own match (none: a non-final related case) silently dropped it."""
    cat = Category.objects.filter(level=3).first()
    assert cat is not None
    final = _final_case(world, cat.pk)
    person = final.parties.get().petitioner
    later = case_register(
        by=world.rita,
        office=world.office,
        reg=registration(category_id=cat.pk, final_inform=False, summary="又来反映"),
    )
    assert later.status == Status.REGISTERED
    c = _client(world.rita)
    panel = c.post(
        reverse("case_register_desk_panel"),
        {"known_person": str(person.pk), "related": str(later.pk), "category": str(cat.pk)},
    ).content.decode()
    assert "已终结，不再受理" in panel and f'name="final_seen" value="{final.pk}"' in panel
    data = _no_people(
        "k-final",
        known_person=str(person.pk),
        related=str(later.pk),
        category=str(cat.pk),
        final_seen=str(final.pk),
        final_inform="on",
    )
    response = c.post(reverse("case_register"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    case = Case.objects.get(idempotency_key="k-final")
    assert case.status == Status.INFORMED
    assert case.related_to_id == final.pk
    inform = case.events.get(kind="inform")
    assert final.number in inform.text and OPINION in inform.text
    assert case.events.filter(kind="final_repeat").exists()


# --- 回避: 包案, leader days, the collective alert ---------------------------------------------


def test_accused_leader_is_never_made_owner(world: World) -> None:
    case = _accusation(world, accused_person_ids=[world.leo.pk])
    lena = make_user("lena", world.district, R.LEADER, "莉娜")
    assert [u.pk for u in S.owner_choices(case)] == [lena.pk]
    with pytest.raises(DomainError) as err:
        S.case_assign_owner(case=case, leader=world.leo, by=world.alice)
    assert err.value.field == "leader"
    assert not Notification.objects.filter(recipient=world.leo).exists()
    assert not case.events.filter(kind="ownership").exists()
    S.case_assign_owner(case=case, leader=lena, by=world.alice)  # a leader without conflict


def test_collective_alert_does_not_name_the_accused_leader(world: World) -> None:
    lena = make_user("lena", world.district, R.LEADER, "莉娜")
    case = _accusation(world, headcount=6, accused_person_ids=[world.leo.pk])
    collective_alert(sender=Case, case=case)
    ev = CaseEvent.objects.get(case=case, kind="collective_alert")
    assert world.leo.pk not in ev.data["leader_ids"] and "黎奥" not in ev.text
    assert lena.pk in ev.data["leader_ids"]
    assert not Notification.objects.filter(recipient=world.leo).exists()


def _day(world: World, leader: Any = None) -> ReceptionDay:
    return S.day_create(
        office=world.office,
        by=world.rita,
        leader=leader or world.leo,
        date=timezone.localdate() + dt.timedelta(days=3),
        start_time=dt.time(9),
        end_time=dt.time(11),
        place="接待室",
        capacity=5,
    )


def test_booking_from_a_confidential_case_does_not_take_over_the_accuser(world: World) -> None:
    from xinfang.people.services import PetitionerInput

    lena = make_user("lena", world.district, R.LEADER, "莉娜")
    case = _accusation(world)
    day = _day(world, lena)
    with pytest.raises(DomainError) as err:
        S.booking_create(day=day, by=world.rita, topic="检举", case=case)
    assert err.value.field == "name"
    b = S.booking_create(
        day=day, by=world.rita, topic="检举", case=case, person=PetitionerInput(name="王五")
    )
    assert b.case_id == case.pk


def test_a_case_accusing_the_days_leader_is_not_put_on_their_day(world: World) -> None:
    from xinfang.people.services import PetitionerInput

    case = _accusation(world, accused_person_ids=[world.leo.pk])
    day = _day(world)  # leo receives
    who = PetitionerInput(name="王五", id_number=ACCUSER_ID)
    with pytest.raises(DomainError) as err:
        S.booking_create(day=day, by=world.rita, topic="检举", case=case, person=who)
    assert err.value.field == "case"
    b = S.booking_create(day=day, by=world.rita, topic="另一事", person=who)
    with pytest.raises(DomainError):
        S.booking_link_case(booking=b, case=case, by=world.rita)
    assert S.booking_link_registered(booking_id=b.pk, case=case) is False
    b.refresh_from_db()
    assert b.case_id is None
    page = _client(world.leo).get(f"/reception/days/{day.pk}/").content.decode()
    assert case.number not in page


def test_my_owned_cases_search_does_not_match_accusation_words(world: World) -> None:
    case = _accusation(world)
    S.case_assign_owner(case=case, leader=world.leo, by=world.alice)
    c = _client(world.leo)
    assert case.number in c.get("/reception/mine/", {"q": case.number}).content.decode()
    assert case.number not in c.get("/reception/mine/", {"q": "收受贿赂"}).content.decode()


# --- double submits ---------------------------------------------------------------------------


def test_double_submitted_day_and_booking_create_one(world: World) -> None:
    c = _client(world.rita)
    date = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    form = {
        "idempotency_key": "day-1",
        "leader": str(world.leo.pk),
        "date": date,
        "start_time": "09:00",
        "end_time": "11:00",
        "place": "接待室",
        "capacity": "5",
    }
    assert c.post("/reception/days/new/", form).status_code == 302
    assert c.post("/reception/days/new/", form).status_code == 302
    assert ReceptionDay.objects.count() == 1
    day = ReceptionDay.objects.get()
    booking = {"idempotency_key": "bk-1", "name": "李四", "topic": "物业", "headcount": "1"}
    assert c.post(f"/reception/days/{day.pk}/bookings/", booking).status_code == 302
    assert c.post(f"/reception/days/{day.pk}/bookings/", booking).status_code == 302
    assert Booking.objects.count() == 1
    assert "已预约" in c.get(f"/reception/days/{day.pk}/").content.decode()
    assert 'name="idempotency_key"' in c.get(f"/reception/days/{day.pk}/").content.decode()
    assert 'name="idempotency_key"' in c.get("/reception/days/new/").content.decode()


def test_double_submitted_inform_informs_once(world: World, register: Any) -> None:
    from xinfang.directory.models import Organ, OrganKind

    organ = Organ.objects.create(
        name="示范区人民法院", kind=OrganKind.COURT, address="法院路1号", phone="010-1"
    )
    case = register()
    c = _client(world.rita)
    url = reverse("directory_case_inform", args=[case.pk])
    assert 'name="idempotency_key"' in c.get(url).content.decode()
    form = {"idempotency_key": "inf-1", "organ": str(organ.pk), "reason": "属于法院受理范围"}
    first = c.post(url, form)
    assert first.status_code == 302
    second = c.post(url, form)
    assert second.status_code == 302 and second["Location"] == reverse(
        "case_detail", args=[case.pk]
    )
    assert case.events.filter(kind="inform").count() == 1


def test_hand_over_only_to_a_unit_of_the_offices_own_tree(world: World, register: Any) -> None:
    from xinfang.cases import desk
    from xinfang.org.models import Unit, UnitType

    elsewhere = Unit.objects.create(name="别区", unit_type=UnitType.DISTRICT)
    case = register()
    assert elsewhere not in desk.handover_units(case)
    with pytest.raises(DomainError) as err:
        desk.case_hand_over(case=case, by=world.rita, reason="去别处", to_unit=elsewhere)
    assert err.value.field == "to_unit"
    desk.case_hand_over(case=case, by=world.rita, reason="请街道接待", to_unit=world.street)


def test_a_booked_first_time_visitor_is_carried_to_the_register_form(world: World) -> None:
    """The day page's 登记新事项 passes ``person=<booked person>``: a first-time visitor has no
    case yet, and was refused ("不在您的权限范围内") — the clerk had to retype the identity."""
    from xinfang.people.services import PetitionerInput

    dora = make_user("dora", world.street, R.RECEPTIONIST, "朵拉")
    day = _day(world)
    b = S.booking_create(
        day=day,
        by=world.rita,
        topic="初次反映",
        person=PetitionerInput(name="赵六", id_number=ACCUSER_ID, phone="13900002222"),
    )
    S.booking_arrive(booking=b, by=world.rita)
    c = _client(world.rita)
    day_page = c.get(f"/reception/days/{day.pk}/").content.decode()
    assert f"person={b.petitioner_id}" in day_page
    url = reverse("case_register") + f"?channel=leader_day&booking={b.pk}&person={b.petitioner_id}"
    page = c.get(url).content.decode()
    assert f'name="known_person" value="{b.petitioner_id}"' in page and "赵六" in page
    assert ACCUSER_ID not in page
    response = c.post(
        reverse("case_register"),
        _no_people(
            "k-book",
            channel="leader_day",
            booking=str(b.pk),
            known_person=str(b.petitioner_id),
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    case = Case.objects.get(idempotency_key="k-book")
    assert list(case.parties.values_list("petitioner_id", flat=True)) == [b.petitioner_id]
    b.refresh_from_db()
    assert b.case_id == case.pk
    # another office's clerk cannot pull the booked person in
    other = _client(dora).get(reverse("case_register") + f"?person={b.petitioner_id}")
    assert "赵六" not in other.content.decode()


def test_register_form_cannot_link_another_offices_visit_or_booking(world: World) -> None:
    """The hidden ``visit``/``booking`` ids are untrusted: 区信访局's clerk posting 东湖街道's
    ids registers the case but links neither (seam check of desk_case_registered)."""
    from xinfang.people.services import PetitionerInput
    from xinfang.reception.models import DeskVisit, VisitState

    dora = make_user("dora", world.street, R.RECEPTIONIST, "朵拉")
    visit = S.visit_check_in(office=world.street, by=dora)
    S.visit_call(visit=visit, by=dora)
    day = S.day_create(
        office=world.street,
        by=dora,
        leader=world.leo,
        date=timezone.localdate() + dt.timedelta(days=2),
        start_time=dt.time(9),
        end_time=dt.time(11),
        place="街道接待室",
        capacity=5,
    )
    b = S.booking_create(day=day, by=dora, topic="x", person=PetitionerInput(name="甲"))
    S.booking_arrive(booking=b, by=dora)
    data = register_form("k-other", visit=str(visit.pk), booking=str(b.pk))
    assert _client(world.rita).post(reverse("case_register"), data).status_code == 302
    assert Case.objects.filter(idempotency_key="k-other").exists()
    visit = DeskVisit.objects.get(pk=visit.pk)
    b.refresh_from_db()
    assert visit.case_id is None and visit.state == VisitState.IN_RECEPTION
    assert b.case_id is None


def test_override_of_the_final_case_shown_keeps_the_related_case(world: World) -> None:
    """Unticking 告知 (a new matter): the related case the clerk named stays the related case."""
    cat = Category.objects.filter(level=3).first()
    assert cat is not None
    final = _final_case(world, cat.pk)
    person = final.parties.get().petitioner
    later = case_register(
        by=world.rita,
        office=world.office,
        reg=registration(category_id=cat.pk, final_inform=False, summary="又来反映"),
    )
    data = _no_people(
        "k-over",
        known_person=str(person.pk),
        related=str(later.pk),
        category=str(cat.pk),
        final_seen=str(final.pk),
    )
    assert _client(world.rita).post(reverse("case_register"), data).status_code == 302
    case = Case.objects.get(idempotency_key="k-over")
    assert case.status == Status.REGISTERED and case.related_to_id == later.pk
