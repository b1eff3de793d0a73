"""Defects found in review: each reproduced here first, then fixed."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from tests.conftest import VALID_ID, World, make_user, register_form, registration
from xinfang.cases import services as S
from xinfang.cases.models import Case, CasePetitioner, Status
from xinfang.cases.registration import case_register
from xinfang.core.errors import ConcurrentChange, DomainError, IdempotencyConflict
from xinfang.org import roles as R
from xinfang.people.selectors import with_id_number, without_id_number
from xinfang.people.services import PetitionerInput


def test_a_key_used_by_another_office_is_refused_and_reveals_nothing(world: World, client):
    mine = case_register(
        by=world.rita, office=world.office, reg=registration(), idempotency_key="k"
    )
    eve = make_user("eve", world.street, R.RECEPTIONIST)
    with pytest.raises(IdempotencyConflict):
        case_register(by=eve, office=world.street, reg=registration(), idempotency_key="k")
    client.force_login(eve)
    page = client.post(
        reverse("case_register"),
        register_form("k", summary="重放"),
    ).content.decode()
    assert "已被其他登记使用" in page
    assert mine.number not in page and mine.query_code not in page


def test_related_case_number_of_another_unit_is_not_shown(world: World, client):
    sue = make_user("sue", world.street, R.RECEPTIONIST)
    first = case_register(by=world.rita, office=world.office, reg=registration(category_id=None))
    second = case_register(by=sue, office=world.street, reg=registration(related_to_id=first.pk))
    client.force_login(sue)
    page = client.get(reverse("case_detail", args=[second.pk])).content.decode()
    assert first.number not in page and "不在您的查看范围内" in page


def test_sysadmin_cannot_make_itself_superuser(world: World, client):
    sam = world.sam
    sam.is_staff = True
    sam.save()
    from django.contrib.auth.models import Permission

    sam.user_permissions.add(*Permission.objects.filter(codename__in=["change_user", "view_user"]))
    client.force_login(User.objects.get(pk=sam.pk))
    url = reverse("admin:auth_user_change", args=[sam.pk])
    page = client.get(url).content.decode()
    assert 'name="is_superuser"' not in page


def test_merge_needs_sight_of_every_case_and_wins_once(world: World, register: Any):
    from xinfang.people.models import Petitioner
    from xinfang.people.services import petitioner_merge

    register(petitioners=[PetitionerInput(name="王五", phone="13600000000")])
    sue = make_user("sue", world.street, R.RECEPTIONIST)
    case_register(
        by=sue,
        office=world.street,
        reg=registration(petitioners=[PetitionerInput(name="王五", id_number=VALID_ID)]),
    )
    source = without_id_number().get()
    target = with_id_number(VALID_ID).get()
    banan_dh = make_user("banan_dh", world.street, R.CASE_OFFICER)
    with pytest.raises(DomainError, match="无权查看"):
        petitioner_merge(source=source, target=target, by=banan_dh, reason="同一人")
    petitioner_merge(source=source, target=target, by=world.alice, reason="同一人")
    stale = Petitioner.objects.get(pk=source.pk)
    stale.merged_into_id = None  # a second clerk's stale copy
    with pytest.raises(ConcurrentChange):
        petitioner_merge(source=stale, target=target, by=world.alice, reason="再次")


def test_route_only_to_staffed_units_of_the_tree(world: World, register: Any):
    from xinfang.org.models import Unit, UnitType

    case = register()
    other = Unit.objects.create(name="外区", unit_type=UnitType.DISTRICT, division_code="110106")
    make_user("far", other, R.HANDLER)
    for unit in (world.district, world.office, other):
        with pytest.raises(DomainError, match="不能交办或转送"):
            S.case_assign(case=case, by=world.alice, unit=unit)
    assert Case.objects.get(pk=case.pk).status == Status.REGISTERED
    S.case_assign(case=case, by=world.alice, unit=world.community)  # cora signs in there


def test_a_new_unit_gets_its_own_extension_after_a_return(world: World, register: Any):
    case = register()
    S.case_assign(case=case, by=world.alice, unit=world.street)
    S.case_sign_in(case=case, by=world.hank)
    S.case_accept(case=case, by=world.hank, notice_text="决定受理。")
    S.case_request_extension(case=case, by=world.hank, days=30, reason="情况复杂需调查")
    S.case_decide_extension(case=case, by=world.alice, approve=True)
    with pytest.raises(DomainError, match="只能延长一次"):
        S.case_request_extension(case=case, by=world.hank, days=10, reason="再延期一次")
    S.case_return(case=case, by=world.hank, reason="不属于本街道职责")
    S.case_assign(case=case, by=world.alice, unit=world.sibling)
    S.case_sign_in(case=case, by=world.bob)
    S.case_accept(case=case, by=world.bob, notice_text="决定受理。")
    S.case_request_extension(case=case, by=world.bob, days=20, reason="需要现场勘验")


def test_stale_action_after_return_and_reassignment_loses(world: World, register: Any):
    case = register()
    S.case_assign(case=case, by=world.alice, unit=world.street)
    stale = Case.objects.get(pk=case.pk)  # hank's page, assigned to 东湖街道
    S.case_return(case=case, by=world.hank, reason="不属于本街道职责")
    S.case_assign(case=case, by=world.alice, unit=world.sibling)
    stale.handling_unit = world.street
    with pytest.raises(DomainError):
        S.case_sign_in(case=stale, by=world.hank)
    assert Case.objects.get(pk=case.pk).status == Status.ASSIGNED


def test_same_person_twice_in_one_form_is_one_party(world: World, register: Any):
    person = PetitionerInput(name="张三", id_number=VALID_ID)
    case = register(petitioners=[person, person], representatives=[person])
    assert CasePetitioner.objects.filter(case=case).count() == 1


@pytest.mark.parametrize(
    "params",
    [
        {"date_from": "0001-01-01"},
        {"date_to": "9999-12-31"},
        {"category": "99999999999999999999"},
        {"unit": "99999999999999999999"},
        {"page": "99999999999999999999"},
    ],
)
def test_odd_list_filters_do_not_break_the_page(world: World, client, params):
    client.force_login(world.alice)
    assert client.get(reverse("case_list"), params).status_code == 200


def test_ancient_received_time_is_refused(world: World, register: Any):
    import datetime as dt

    with pytest.raises(DomainError, match="早于1990年"):
        register(received_at=dt.datetime(1, 1, 1, 9, 0))


def test_ancient_received_time_in_the_form_and_api(world: World, client):
    import json

    client.force_login(world.rita)
    data = register_form("k9", received_at="0001-01-01T00:00", summary="古老的时间")
    response = client.post(reverse("case_register"), data)
    assert response.status_code == 200 and "古老的时间" in response.content.decode()
    body = {
        "office_unit_id": world.office.pk,
        "channel": "visit",
        "purpose": "appeal",
        "summary": "古老的时间",
        "received_at": "0001-01-01T00:00:00",
        "petitioners": [{"name": "某人"}],
    }
    from django.test import Client

    api = Client()
    api.force_login(world.rita)
    r = api.post("/api/cases", json.dumps(body), content_type="application/json")
    assert r.status_code in (400, 422), r.content
    assert Case.objects.count() == 0
