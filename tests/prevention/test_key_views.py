"""重点人员/群体 pages: the permission matrix, audited detail reads, forms and their errors."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.conftest import World
from tests.prevention._key_util import build, flag
from xinfang.audit.models import AuditEntry
from xinfang.people.models import KeyPerson
from xinfang.prevention.models import KeyContact, KeyGroup

pytestmark = pytest.mark.django_db


def as_(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_list_and_detail_matrix(world: World) -> None:
    kw = build(world)
    kp = flag(kw)
    for user in (world.alice, world.leo, kw.sue, world.uma):
        c = as_(user)
        page = c.get("/prevention/keys/")
        assert page.status_code == 200, user
        assert "张三" in page.content.decode()
        assert c.get(f"/prevention/keys/person/{kp.pk}/").status_code == 200, user
    for user in (world.hank, world.rita, world.bob, kw.sid):
        c = as_(user)
        assert c.get("/prevention/keys/").status_code == 404, user
        assert c.get(f"/prevention/keys/person/{kp.pk}/").status_code == 404, user
        assert c.get("/prevention/keys/person/new/").status_code == 404, user


def test_leader_sees_only_own_scope(world: World) -> None:
    kw = build(world)
    kp = flag(kw)
    other = flag(
        kw,
        person=kw.case_c.parties.get(role="principal").petitioner,
        unit=world.sibling,
        leader=world.leo,
    )
    c = as_(kw.sue)
    body = c.get("/prevention/keys/").content.decode()
    assert f"/prevention/keys/person/{kp.pk}/" in body
    assert f"/prevention/keys/person/{other.pk}/" not in body
    assert c.get(f"/prevention/keys/person/{other.pk}/").status_code == 404


def test_detail_read_is_audited_and_masked(world: World) -> None:
    kw = build(world)
    kp = flag(kw)
    before = AuditEntry.objects.filter(action="keyperson_view").count()
    body = as_(world.alice).get(f"/prevention/keys/person/{kp.pk}/").content.decode()
    assert AuditEntry.objects.filter(action="keyperson_view").count() == before + 1
    entry = AuditEntry.objects.filter(action="keyperson_view").latest("seq")
    assert entry.object_id == str(kp.pk) and entry.actor_id == world.alice.pk
    assert "11010519491231002X" not in body and "13812345678" not in body
    assert kw.person.id_masked in body
    # the existing audited reveal, through a visible non-confidential case
    assert f"/people/{kw.person.pk}/reveal/" in body
    assert kw.case_a.number in body and kw.case_b.number in body and "内容保密" in body
    # a 404 read is not audited
    as_(world.hank).get(f"/prevention/keys/person/{kp.pk}/")
    assert AuditEntry.objects.filter(action="keyperson_view").count() == before + 1


def test_uma_detail_hides_invisible_cases(world: World) -> None:
    kw = build(world)
    kp = flag(kw)
    body = as_(world.uma).get(f"/prevention/keys/person/{kp.pk}/").content.decode()
    assert kw.case_c.number in body
    assert kw.case_a.number not in body and kw.case_b.number not in body
    assert "修改信息" not in body  # unit head reads and logs contacts, does not edit
    assert "登记联系记录" in body


def test_list_filters(world: World) -> None:
    kw = build(world)
    kp = flag(kw)
    KeyPerson.objects.filter(pk=kp.pk).update(review_on=timezone.localdate() - dt.timedelta(days=2))
    c = as_(world.alice)
    assert "张三" in c.get("/prevention/keys/?review=overdue").content.decode()
    assert "张三" not in c.get("/prevention/keys/?status=removed").content.decode()
    assert "张三" in c.get(f"/prevention/keys/?unit={world.street.pk}").content.decode()
    assert "张三" not in c.get(f"/prevention/keys/?unit={world.sibling.pk}").content.decode()
    assert "张三" in c.get(f"/prevention/keys/?leader={kw.sue.pk}").content.decode()
    assert "张三" not in c.get("/prevention/keys/?q=李").content.decode()
    partial = c.get(
        "/prevention/keys/?q=张", headers={"HX-Request": "true", "HX-Target": "results"}
    )
    assert "<html" not in partial.content.decode() and "张三" in partial.content.decode()


def _facts(**kw: Any) -> dict[str, Any]:
    data = {
        "reason": "扬言进京上访",
        "since": timezone.localdate().isoformat(),
        "unit": "",
        "leader": "",
        "plan": "街道每周走访",
        "review_on": "",
        "idempotency_key": "k-1",
    }
    data.update(kw)
    return data


def test_person_new_flow(world: World) -> None:
    kw = build(world)
    c = as_(world.alice)
    page = c.get("/prevention/keys/person/new/?q=张").content.decode()
    assert f"?petitioner={kw.person.pk}" in page and "13812345678" not in page
    assert c.get(f"/prevention/keys/person/new/?petitioner={kw.stranger.pk}").status_code == 404
    # bad input: kept, message on the field
    bad = c.post(
        "/prevention/keys/person/new/",
        _facts(
            petitioner=kw.person.pk, unit=world.street.pk, leader=world.alice.pk, reason="原因留着"
        ),
    )
    assert bad.status_code == 400
    text = bad.content.decode()
    assert "原因留着" in text
    assert "Choose a valid" not in text
    ok = c.post(
        "/prevention/keys/person/new/",
        _facts(petitioner=kw.person.pk, unit=world.street.pk, leader=kw.sue.pk),
    )
    kp = KeyPerson.objects.get()
    assert ok.status_code == 302 and ok["Location"] == f"/prevention/keys/person/{kp.pk}/"
    # the same form sent again: no second row, back to the record
    again = c.post(
        "/prevention/keys/person/new/",
        _facts(petitioner=kw.person.pk, unit=world.street.pk, leader=kw.sue.pk),
    )
    assert again.status_code == 302 and KeyPerson.objects.count() == 1
    # a fresh form for the same person: refused naming the existing flag
    dup = c.post(
        "/prevention/keys/person/new/",
        _facts(petitioner=kw.person.pk, unit=world.street.pk, idempotency_key="k-2"),
    )
    assert dup.status_code == 400 and "已被列为重点人员" in dup.content.decode()


def test_detail_actions(world: World) -> None:
    kw = build(world)
    kp = flag(kw)
    url = f"/prevention/keys/person/{kp.pk}/"
    c = as_(world.alice)
    r = c.post(
        url, {"op": "contact", "method": "visit", "note": "上门走访", "idempotency_key": "c1"}
    )
    assert r.status_code == 302 and KeyContact.objects.count() == 1
    c.post(url, {"op": "contact", "method": "visit", "note": "上门走访", "idempotency_key": "c1"})
    assert KeyContact.objects.count() == 1  # double submit
    bad = c.post(url, {"op": "contact", "method": "visit", "note": ""})
    assert bad.status_code == 400 and "请填写联系情况" in bad.content.decode()
    edit = _facts(op="edit", unit=world.street.pk, leader=kw.sue.pk, plan="改为每两周走访")
    assert c.post(url, edit).status_code == 302
    kp.refresh_from_db()
    assert kp.plan == "改为每两周走访"
    # uma (the unit head: reads and logs contacts) may not edit: 403 with the message, and the
    # plan is unchanged — not a form error (400) on choices she is not offered
    denied = as_(world.uma).post(url, {**edit, "plan": "单位负责人改的措施"})
    assert denied.status_code == 403
    assert (
        "只有责任单位所属范围内的领导、办案员可以登记或变更重点人员/群体" in denied.content.decode()
    )
    kp.refresh_from_db()
    assert kp.plan == "改为每两周走访"
    r = c.post(url, {"op": "remove", "reason": ""})
    assert r.status_code == 400 and "请填写撤销原因" in r.content.decode()
    assert c.post(url, {"op": "remove", "reason": "已稳定"}).status_code == 302
    kp.refresh_from_db()
    assert kp.removed_at is not None
    body = c.get(url).content.decode()
    assert "已撤销" in body and "已稳定" in body
    assert c.get("/prevention/keys/?status=removed").content.decode().count("张三") >= 1


def test_group_pages(world: World) -> None:
    from tests.conftest import registration
    from xinfang.cases.registration import case_register

    build(world)
    case_register(by=world.rita, office=world.office, reg=registration(group_name="某厂退休职工"))
    c = as_(world.alice)
    page = c.get("/prevention/keys/group/new/").content.decode()
    assert "某厂退休职工" in page
    from xinfang.people.models import PetitionerGroup

    g = PetitionerGroup.objects.get(name="某厂退休职工")
    form = _facts(group=g.pk, unit=world.street.pk, leader=world.leo.pk, headcount="25")
    r = c.post("/prevention/keys/group/new/", form)
    assert r.status_code == 302
    kg = KeyGroup.objects.get()
    body = c.get(f"/prevention/keys/group/{kg.pk}/").content.decode()
    assert "某厂退休职工" in body and "群体成员" in body and "13812345678" not in body
    assert AuditEntry.objects.filter(action="keyperson_view", object_id=str(kg.pk)).count() == 1
    new = c.post(
        "/prevention/keys/group/new/",
        _facts(
            group="new",
            new_name="东湖拆迁户",
            unit=world.street.pk,
            headcount="9",
            idempotency_key="k-9",
        ),
    )
    assert new.status_code == 302 and KeyGroup.objects.count() == 2
    assert "东湖拆迁户" in c.get("/prevention/keys/?tab=group").content.decode()
    assert as_(world.bob).get(f"/prevention/keys/group/{kg.pk}/").status_code == 404
    assert as_(world.hank).get("/prevention/keys/group/new/").status_code == 404


def test_unit_head_cannot_add(world: World) -> None:
    build(world)
    c = as_(world.uma)
    for url in ("/prevention/keys/person/new/", "/prevention/keys/group/new/"):
        r = c.get(url)
        assert r.status_code == 403 and "只有领导、办案员可以登记" in r.content.decode()


# --- review findings 6 and 15 ------------------------------------------------------------------


def test_key_person_without_unit_only_for_the_district_office_and_its_leaders(
    world: World,
) -> None:
    """A flag from before issue 10 has no 责任单位: the district's office (办案员, 领导) and the
    district's 领导 read it; a street's leader — also of a street that is a petition office —
    and the staff of a street office do not; nor does another district's office."""
    from tests.conftest import make_user
    from xinfang.org import roles as R
    from xinfang.org.models import Unit, UnitType
    from xinfang.prevention import policy

    kw = build(world)
    kp = KeyPerson.objects.create(
        petitioner=kw.person, reason="多次越级", since=dt.date(2026, 1, 1), added_by=world.alice
    )
    assert kp.unit_id is None
    director = make_user("director", world.office, R.LEADER, "局长")
    xleader = make_user("xleader", world.sibling, R.LEADER, "西山领导")
    street_officer = make_user("stoff", world.street, R.CASE_OFFICER, "街道办案员")
    other_root = Unit.objects.create(
        name="邻区", unit_type=UnitType.DISTRICT, division_code="110106"
    )
    other_office = Unit.objects.create(
        name="邻区信访局", unit_type=UnitType.DEPARTMENT, parent=other_root, is_petition_office=True
    )
    foreign = make_user("foreign", other_office, R.CASE_OFFICER, "邻区办案员")
    url = f"/prevention/keys/person/{kp.pk}/"
    for user in (world.alice, world.leo, director):
        assert policy.key_persons_visible_to(user).filter(pk=kp.pk).exists(), user
        assert policy.may_read_key_subject(user, kp), user
        assert as_(user).get(url).status_code == 200, user
    for user in (xleader, kw.sue, street_officer, foreign):
        assert not policy.key_persons_visible_to(user).filter(pk=kp.pk).exists(), user
        assert not policy.may_read_key_subject(user, kp), user
        assert as_(user).get(url).status_code == 404, user
        assert url not in as_(user).get("/prevention/keys/").content.decode(), user
    # flagged from the admin by an account with no post: the district office still reads it
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_user("root", password="x", is_staff=True)
    kp.added_by = admin
    kp.save(update_fields=["added_by"])
    assert policy.key_persons_visible_to(world.alice).filter(pk=kp.pk).exists()
    assert not policy.key_persons_visible_to(xleader).filter(pk=kp.pk).exists()
    # once the office gives it a 责任单位, the usual scope rules apply
    KeyPerson.objects.filter(pk=kp.pk).update(unit=world.sibling)
    assert as_(xleader).get(url).status_code == 200


def _list_rows() -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(action="keyperson_view", detail__list=True).order_by("seq")
    )


def test_every_list_request_is_audited_without_search_words(world: World) -> None:
    kw = build(world)
    flag(kw)
    c = as_(world.alice)
    before = len(_list_rows())
    page = c.get("/prevention/keys/", {"q": "张三", "status": "active"})
    assert page.status_code == 200 and "张三" in page.content.decode()
    rows = _list_rows()
    assert len(rows) == before + 1
    row = rows[-1]
    assert row.actor_id == world.alice.pk and row.object_type == "keyperson"
    assert row.detail["count"] == 1 and row.detail["via"] == "page"
    assert row.detail["filters"]["status"] == "active"
    assert "张三" not in str(row.detail) and "张三" not in row.summary
    assert "2字" in row.detail["filters"]["q"]
    part = c.get(
        "/prevention/keys/", {"tab": "group"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results"
    )
    assert part.status_code == 200
    rows = _list_rows()
    assert len(rows) == before + 2
    assert rows[-1].object_type == "keygroup" and rows[-1].detail["via"] == "htmx"
    assert rows[-1].detail["count"] == 0
    # a refused list (no post for the register) writes nothing
    assert as_(world.hank).get("/prevention/keys/").status_code == 404
    assert len(_list_rows()) == before + 2
