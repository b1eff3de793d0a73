"""检举控告 confidentiality: try every path an accused person or unit could read the case by,
and check what legitimate readers see (masked, audited reveal) and that routing 回避 holds.

Cast (tests/conftest.py): the accusation names 西山街道 (bob's unit) and leo (the district
leader, who otherwise sees every case). bob also gets a district-wide 督查员 post: he would see
every case, but a post in an accused unit excludes him whatever else he holds.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.api.conftest import token_client
from tests.conftest import World, make_user, register_form
from xinfang.audit.models import AuditEntry
from xinfang.cases import confidential, selectors
from xinfang.cases.models import Case, Status
from xinfang.cases.policy import cases_visible_to, routing_targets
from xinfang.cases.services import case_assign, case_sign_in
from xinfang.core.errors import DomainError
from xinfang.core.idcard import id_check_digit
from xinfang.org import roles as R
from xinfang.org.models import Membership, Role
from xinfang.people.services import PetitionerInput

SECRET_WORD = "挪用扶贫款"
CONTENT = f"西山街道副主任王某{SECRET_WORD}二十万元，并威胁举报人。"
ACCUSER = "钱多多"
ACCUSER_PHONE = "13900001111"
ACCUSER_ID = "11010519800101003" + id_check_digit("11010519800101003")
PLACEHOLDER = "【检举控告件，内容保密】"


def _leaks(body: str) -> list[str]:
    return [s for s in (SECRET_WORD, ACCUSER, ACCUSER_PHONE, ACCUSER_ID, "王某") if s in body]


@pytest.fixture
def accusation(world: World, register: Any) -> Case:
    Membership.objects.create(
        user=world.bob, unit=world.district, role=Role.objects.get(code=R.SUPERVISOR)
    )
    return register(
        purpose="accusation",
        summary=f"检举西山街道干部{SECRET_WORD}",
        content=CONTENT,
        petitioners=[PetitionerInput(name=ACCUSER, id_number=ACCUSER_ID, phone=ACCUSER_PHONE)],
        accused_unit_ids=[world.sibling.pk],
        accused_person_ids=[world.leo.pk],
        accused_text="副主任王某",
        received_at=timezone.now() - dt.timedelta(days=25),  # routing deadline overdue
    )


@pytest.fixture
def control(register: Any) -> Case:
    """An ordinary case everyone in scope sees: proves the accused's views are not just empty."""
    return register(summary="反映道路破损", received_at=timezone.now() - dt.timedelta(days=25))


def _csv(response: Any) -> str:
    return b"".join(response.streaming_content).decode("utf-8-sig")


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


# --- the accused see nothing ---------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["bob", "leo"])
def test_accused_never_reach_the_case_in_the_ui(
    world: World, accusation: Case, control: Case, who: str
) -> None:
    user = getattr(world, who)
    assert not cases_visible_to(user).filter(pk=accusation.pk).exists()
    assert cases_visible_to(user).filter(pk=control.pk).exists()
    c = _client(user)
    pk = accusation.pk
    # list and every search: by content word, summary word, name, ID number, phone, number
    for q in ("", SECRET_WORD, "检举", ACCUSER, ACCUSER_ID, ACCUSER_PHONE, accusation.number):
        r = c.get("/cases/", {"q": q})
        # what was typed is echoed (search box, export link): look for everything else
        body = r.content.decode().replace(q, "") if q else r.content.decode()
        assert r.status_code == 200
        assert accusation.number not in body, q
        assert not _leaks(body), q
    assert control.number in c.get("/cases/").content.decode()
    r = c.get("/cases/", {"purpose": "accusation"})
    assert "共 0 件" in r.content.decode()
    # detail, reveal, actions, notes, accused form: 404, nothing in the body
    for method, url in [
        ("get", f"/cases/{pk}/"),
        ("post", f"/cases/{pk}/reveal/"),
        ("post", f"/cases/{pk}/act/sign_in/"),
        ("post", f"/cases/{pk}/act/assign/"),
        ("post", f"/cases/{pk}/note/"),
        ("post", f"/cases/{pk}/accused/"),
    ]:
        r = getattr(c, method)(url, {"text": "看看"} if method == "post" else None)
        assert r.status_code == 404, url
        assert not _leaks(r.content.decode())
    # export
    r = c.get("/cases/export")
    body = _csv(r)
    assert accusation.number not in body and not _leaks(body)
    assert control.number in body
    # home page counts: both cases are overdue; the accused count only the control
    items = {i.key: i.count for i in selectors.work_list(user)}
    assert items["overdue"] == 1
    assert {i.key: i.count for i in selectors.work_list(world.alice)}["overdue"] == 2
    home = c.get("/").content.decode()
    assert not _leaks(home)
    # no reveal was audited for them
    assert not AuditEntry.objects.filter(action="reveal", actor_id=user.pk).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["bob", "leo"])
def test_accused_never_reach_the_case_in_the_api(
    world: World, accusation: Case, control: Case, who: str
) -> None:
    api = token_client(getattr(world, who))
    pk = accusation.pk
    for q in ("", SECRET_WORD, ACCUSER, ACCUSER_ID, ACCUSER_PHONE, accusation.number):
        r = api.get("/cases", q=q)
        assert r.status_code == 200
        assert pk not in [i["id"] for i in r.json()["items"]], q
        assert not _leaks(r.content.decode()), q
    assert api.get("/cases").json()["count"] == 1  # the control only
    assert api.get(f"/cases/{pk}").status_code == 404
    for q in (ACCUSER, ACCUSER_ID, ACCUSER_PHONE):
        r = api.get("/petitioners/lookup", q=q)
        assert r.status_code == 200
        assert r.json()["items"] == [], q
    r = api.get("/cases/export.csv")
    body = _csv(r)
    assert accusation.number not in body and not _leaks(body)
    for path, payload in [
        (f"/cases/{pk}/reveal", {}),
        (f"/cases/{pk}/accused", {"text": "x"}),
        (f"/cases/{pk}/actions/sign_in", {}),
        (f"/cases/{pk}/note", {"text": "看看"}),
    ]:
        r = api.post(path, payload)
        assert r.status_code == 404, path
        assert not _leaks(r.content.decode())
    r = api.upload(pk, "a.txt", b"hello")
    assert r.status_code == 404
    pid = accusation.parties.get().petitioner_id
    r = api.post(f"/petitioners/{pid}/reveal", {"field": "phone"})
    assert r.status_code in (404, 422) and ACCUSER_PHONE not in r.content.decode()


@pytest.mark.django_db
def test_post_anywhere_below_an_accused_unit_excludes(world: World, register: Any) -> None:
    """A unit below the accused one (东湖社区 under 东湖街道) and a unit above (the district,
    leo) behave differently: below is excluded, above is not."""
    case = register(
        purpose="accusation", summary="检举东湖街道", accused_unit_ids=[world.street.pk]
    )
    cora = Membership.objects.get(user__username="cora").user
    leader_dh = make_user("lead_dh", world.community, R.LEADER, "社区领导")
    assert not confidential.exclude_accused(Case.objects.filter(pk=case.pk), cora).exists()
    assert not confidential.exclude_accused(Case.objects.filter(pk=case.pk), leader_dh).exists()
    assert not cases_visible_to(world.hank).filter(pk=case.pk).exists()
    assert cases_visible_to(world.leo).filter(pk=case.pk).exists()


# --- legitimate readers: masked, audited reveal ---------------------------------------------


@pytest.mark.django_db
def test_list_masks_and_search_is_limited_to_the_office(world: World, register: Any) -> None:
    case = register(
        purpose="accusation",
        summary=f"检举干部{SECRET_WORD}",
        content=CONTENT,
        petitioners=[PetitionerInput(name=ACCUSER, id_number=ACCUSER_ID, phone=ACCUSER_PHONE)],
        accused_unit_ids=[world.sibling.pk],
    )
    # leo (district leader, not accused here) sees the case, masked; search does not match it
    leo = _client(world.leo)
    body = leo.get("/cases/").content.decode()
    assert case.number in body and PLACEHOLDER in body and "钱**" in body
    assert not _leaks(body)
    for q in (SECRET_WORD, ACCUSER, ACCUSER_ID, ACCUSER_PHONE):
        assert case.number not in leo.get("/cases/", {"q": q}).content.decode(), q
    assert case.number in leo.get("/cases/", {"q": case.number}).content.decode()
    # the registering office's desk and case staff find it by content and by person
    for user in (world.alice, world.rita):
        c = _client(user)
        for q in (SECRET_WORD, ACCUSER, ACCUSER_ID):
            body = c.get("/cases/", {"q": q}).content.decode().replace(q, "")
            assert case.number in body, (user.username, q)
            assert not _leaks(body)  # still masked in the row
    # API list row and lookup
    row = next(
        i for i in token_client(world.leo).get("/cases").json()["items"] if i["id"] == case.pk
    )
    assert row["summary"] == PLACEHOLDER and row["is_confidential"]
    assert row["first_petitioner"] == {"name": "钱**", "id_masked": "", "phone_masked": ""}
    assert token_client(world.leo).get("/petitioners/lookup", q=ACCUSER).json()["items"] == []
    found = token_client(world.alice).get("/petitioners/lookup", q=ACCUSER).json()["items"]
    assert [c["id"] for c in found[0]["cases"]] == [case.pk]


@pytest.mark.django_db
def test_detail_hides_until_an_audited_reveal(world: World, register: Any) -> None:
    case = register(
        purpose="accusation",
        content=CONTENT,
        summary=f"检举{SECRET_WORD}",
        petitioners=[PetitionerInput(name=ACCUSER, phone=ACCUSER_PHONE)],
        accused_unit_ids=[world.sibling.pk],
        accused_text="副主任王某",
    )
    c = _client(world.leo)
    r = c.get(f"/cases/{case.pk}/")
    body = r.content.decode()
    assert r.status_code == 200 and "查看检举内容" in body and not _leaks(body)
    assert "no-store" in r["Cache-Control"]
    before = AuditEntry.objects.filter(action="reveal", object_id=str(case.pk)).count()
    r = c.post(f"/cases/{case.pk}/reveal/", headers={"HX-Request": "true"})
    body = r.content.decode()
    assert r.status_code == 200
    assert SECRET_WORD in body and ACCUSER in body and "王某" in body and "西山街道" in body
    assert "no-store" in r["Cache-Control"]
    entries = AuditEntry.objects.filter(action="reveal", object_id=str(case.pk))
    assert entries.count() == before + 1
    entry = entries.order_by("-seq").first()
    assert entry is not None
    assert entry.actor_id == world.leo.pk and entry.detail == {"field": "accusation"}
    # without HTMX: the whole page, revealed; a second reveal is a second audit row
    r = c.post(f"/cases/{case.pk}/reveal/")
    assert SECRET_WORD in r.content.decode()
    assert entries.count() == before + 2
    # a GET never reveals
    assert c.get(f"/cases/{case.pk}/reveal/").status_code == 405
    # the API: masked detail, audited reveal
    api = token_client(world.leo)
    d = api.get(f"/cases/{case.pk}").json()
    assert d["summary"] == PLACEHOLDER and d["content"] == "" and d["is_confidential"]
    assert d["petitioners"][0]["name"] == "钱**" and d["petitioners"][0]["phone_masked"] == ""
    assert not _leaks(api.get(f"/cases/{case.pk}").content.decode())
    r = api.post(f"/cases/{case.pk}/reveal")
    assert r.status_code == 200 and "no-store" in r["Cache-Control"]
    got = r.json()
    assert got["content"] == CONTENT and got["petitioners"][0]["name"] == ACCUSER
    assert [u["name"] for u in got["accused_units"]] == ["西山街道"]
    assert got["accused_text"] == "副主任王某"
    assert entries.count() == before + 3
    # an ordinary case has nothing to reveal
    plain = register(summary="普通事项")
    assert api.post(f"/cases/{plain.pk}/reveal").status_code == 404


@pytest.mark.django_db
def test_export_masks_and_is_audited(world: World, accusation: Case, control: Case) -> None:
    c = _client(world.alice)
    r = c.get("/cases/export", {"status": "registered"})
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    raw = b"".join(getattr(r, "streaming_content"))  # noqa: B009
    assert raw.startswith(b"\xef\xbb\xbf")
    body = raw.decode("utf-8-sig")
    assert accusation.number in body and control.number in body
    assert PLACEHOLDER in body and "钱**" in body and not _leaks(body)
    entry = AuditEntry.objects.filter(action="export", actor_id=world.alice.pk).get()
    assert entry.detail["rows"] == 2 and entry.detail["filters"] == {"status": "registered"}
    # filters apply; the API export is the same
    body = _csv(c.get("/cases/export", {"purpose": "appeal"}))
    assert control.number in body and accusation.number not in body
    r = token_client(world.alice).get("/cases/export.csv", purpose="accusation")
    body = _csv(r)
    assert accusation.number in body and control.number not in body and not _leaks(body)
    assert AuditEntry.objects.filter(action="export", actor_id=world.alice.pk).count() == 3


@pytest.mark.django_db
def test_export_neutralises_formulas(world: World, register: Any) -> None:
    case = register(summary="=HYPERLINK(1)")
    body = _csv(_client(world.alice).get("/cases/export"))
    assert "'=HYPERLINK(1)" in body and case.number in body


# --- routing 回避 ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_routing_to_the_accused_is_refused(world: World, register: Any) -> None:
    case = register(purpose="accusation", summary="检举", accused_unit_ids=[world.street.pk])
    offered = set(routing_targets(world.office, case).values_list("pk", flat=True))
    assert world.street.pk not in offered and world.community.pk not in offered
    assert world.sibling.pk in offered
    for unit in (world.street, world.community):
        with pytest.raises(DomainError, match="回避"):
            case_assign(case=case, by=world.alice, unit=unit)
    r = token_client(world.alice).post(
        f"/cases/{case.pk}/actions/assign", {"unit_id": world.street.pk}
    )
    assert r.status_code == 400 and "回避" in r.json()["detail"]
    r = _client(world.alice).post(f"/cases/{case.pk}/act/assign/", {"unit": world.street.pk})
    assert r.status_code == 200
    case.refresh_from_db()
    assert case.status == Status.REGISTERED and case.handling_unit is None
    case_assign(case=case, by=world.alice, unit=world.sibling)  # a neutral unit is fine


@pytest.mark.django_db
def test_routing_to_an_accused_persons_unit_is_refused(world: World, register: Any) -> None:
    case = register(purpose="accusation", summary="检举", accused_person_ids=[world.hank.pk])
    assert world.street.pk not in set(
        routing_targets(world.office, case).values_list("pk", flat=True)
    )
    with pytest.raises(DomainError, match="回避"):
        case_assign(case=case, by=world.alice, unit=world.street)


@pytest.mark.django_db
def test_accused_added_later_pulls_the_case_back(world: World, register: Any) -> None:
    case = register(purpose="accusation", summary=f"检举{SECRET_WORD}", content=CONTENT)
    case_assign(case=case, by=world.alice, unit=world.street)
    case_sign_in(case=case, by=world.hank)
    assert cases_visible_to(world.hank).filter(pk=case.pk).exists()
    with pytest.raises(DomainError):  # a unit person may not do it
        confidential.case_set_accused(case=case, by=world.hank, unit_ids=[world.street.pk])
    r = token_client(world.alice).post(f"/cases/{case.pk}/accused", {"unit_ids": [world.street.pk]})
    assert r.status_code == 200, r.content
    assert r.json()["pulled_back"] is True and r.json()["visible"] is True
    case.refresh_from_db()
    assert case.status == Status.RETURNED and case.handling_unit is None
    assert list(case.events.values_list("kind", flat=True))[-2:] == ["accused", "recuse"]
    assert "东湖" not in "".join(case.events.values_list("text", flat=True))
    assert case.deadlines.filter(kind="route", met_at__isnull=True).exists()
    for user in (world.hank, world.uma):
        assert not cases_visible_to(user).filter(pk=case.pk).exists()
        assert _client(user).get(f"/cases/{case.pk}/").status_code == 404


@pytest.mark.django_db
def test_accused_added_later_via_ui_keeps_a_neutral_unit(world: World, register: Any) -> None:
    case = register(purpose="accusation", summary="检举")
    case_assign(case=case, by=world.alice, unit=world.street)
    r = _client(world.alice).post(
        f"/cases/{case.pk}/accused/", {"accused_units": [world.sibling.pk], "accused_text": "某人"}
    )
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.ASSIGNED and case.handling_unit == world.street
    assert list(case.accused_units.all()) == [world.sibling] and case.accused_text == "某人"
    assert not cases_visible_to(world.bob).filter(pk=case.pk).exists()


# --- registration ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_registration_rules(world: World, register: Any) -> None:
    with pytest.raises(DomainError, match="检举控告"):
        register(purpose="appeal", accused_unit_ids=[world.sibling.pk])
    with pytest.raises(DomainError, match="回避"):
        register(purpose="accusation", accused_unit_ids=[world.district.pk])
    with pytest.raises(DomainError, match="回避"):
        register(purpose="accusation", accused_unit_ids=[world.office.pk])
    with pytest.raises(DomainError, match="回避"):
        register(purpose="accusation", accused_person_ids=[world.rita.pk])
    with pytest.raises(DomainError, match="不存在"):
        register(purpose="accusation", accused_unit_ids=[999999])


@pytest.mark.django_db
def test_register_form_and_api_take_the_accused(world: World) -> None:
    c = _client(world.rita)
    page = c.get("/cases/new/").content.decode()
    assert "被检举控告单位" in page and "西山街道" in page
    data = register_form(
        "conf-1",
        purpose="accusation",
        summary="检举某干部",
        accused_units=[str(world.sibling.pk)],
        accused_persons=[str(world.leo.pk)],
        accused_text="某科长",
    )
    r = c.post("/cases/new/", data)
    assert r.status_code == 302
    case = Case.objects.get(idempotency_key="conf-1")
    assert list(case.accused_units.all()) == [world.sibling]
    assert list(case.accused_persons.all()) == [world.leo] and case.accused_text == "某科长"
    r = c.post("/cases/new/", register_form("conf-2", accused_units=[str(world.sibling.pk)]))
    assert r.status_code == 200 and "检举控告" in r.content.decode()
    assert not Case.objects.filter(idempotency_key="conf-2").exists()


@pytest.mark.django_db
def test_api_registration_takes_the_accused(world: World) -> None:
    from tests.api.conftest import registration_body

    api = token_client(world.rita)
    r = api.post(
        "/cases",
        registration_body(
            world,
            purpose="accusation",
            content=CONTENT,
            accused_unit_ids=[world.sibling.pk],
            accused_text="副主任王某",
        ),
    )
    assert r.status_code == 201, r.content
    assert r.json()["summary"] == PLACEHOLDER and not _leaks(r.content.decode())
    case = Case.objects.get(pk=r.json()["id"])
    assert list(case.accused_units.all()) == [world.sibling]
    r = api.post("/cases", registration_body(world, accused_unit_ids=[world.sibling.pk]))
    assert r.status_code == 400 and r.json()["field"] == "accused_units"
