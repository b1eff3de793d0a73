"""API of 重点人员/群体 and the dashboard summary: same rules as the pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from tests.api.conftest import token_client
from tests.conftest import World
from tests.prevention._key_util import build, flag
from xinfang.audit.models import AuditEntry
from xinfang.people.models import KeyPerson

pytestmark = pytest.mark.django_db


def body(kw: Any, **extra: Any) -> dict[str, Any]:
    data = {
        "petitioner_id": kw.person.pk,
        "reason": "扬言进京上访",
        "since": timezone.localdate().isoformat(),
        "unit_id": kw.w.street.pk,
        "leader_id": kw.sue.pk,
        "plan": "每周走访",
        "review_on": (timezone.localdate() + dt.timedelta(days=30)).isoformat(),
    }
    data.update(extra)
    return data


def test_person_lifecycle(world: World) -> None:
    kw = build(world)
    api = token_client(world.alice)
    r = api.post("/prevention/keys/persons", body(kw))
    assert r.status_code == 201, r.content
    got = r.json()
    assert got["name"] == "张三" and got["id_masked"] == kw.person.id_masked
    assert "11010519491231002X" not in r.content.decode()
    kid = got["id"]
    dup = api.post("/prevention/keys/persons", body(kw))
    assert dup.status_code == 400 and "已被列为重点人员" in dup.json()["detail"]
    bad = api.post("/prevention/keys/persons", body(kw, petitioner_id=kw.stranger.pk))
    assert bad.status_code == 404
    wrong_leader = api.post(
        "/prevention/keys/persons", body(kw, leader_id=world.alice.pk, petitioner_id=kw.person.pk)
    )
    assert wrong_leader.status_code == 400
    upd = api.post(f"/prevention/keys/persons/{kid}", {"plan": "每两周走访"})
    assert upd.status_code == 200 and upd.json()["plan"] == "每两周走访"
    c = api.post(
        f"/prevention/keys/persons/{kid}/contacts", {"method": "phone", "note": "电话回访"}
    )
    assert c.status_code == 201 and c.json()["method_label"] == "电话联系"
    before = AuditEntry.objects.filter(action="keyperson_view").count()
    detail = api.get(f"/prevention/keys/persons/{kid}")
    assert detail.status_code == 200
    assert AuditEntry.objects.filter(action="keyperson_view").count() == before + 1
    numbers = {x["number"] for x in detail.json()["cases"]}
    assert numbers == {kw.case_a.number, kw.case_b.number, kw.case_c.number}
    assert any(x["title"] == "检举控告件（内容保密）" for x in detail.json()["cases"])
    assert len(detail.json()["contacts"]) == 1
    lst = api.get("/prevention/keys/persons", q="张")
    assert lst.status_code == 200 and lst.json()["count"] == 1
    rm = api.post(f"/prevention/keys/persons/{kid}/remove", {"reason": "已稳定"})
    assert rm.status_code == 200 and rm.json()["active"] is False
    assert api.get("/prevention/keys/persons").json()["count"] == 0
    assert api.get("/prevention/keys/persons", status="removed").json()["count"] == 1


def test_api_matrix(world: World) -> None:
    kw = build(world)
    kp = flag(kw)
    for user in (world.hank, world.rita, world.bob):
        api = token_client(user)
        assert api.get("/prevention/keys/persons").status_code == 404
        assert api.get(f"/prevention/keys/persons/{kp.pk}").status_code == 404
        assert api.post("/prevention/keys/persons", body(kw)).status_code == 404
    uma = token_client(world.uma)
    assert uma.get(f"/prevention/keys/persons/{kp.pk}").json()["cases"][0]["number"] == (
        kw.case_c.number
    )
    denied = uma.post(f"/prevention/keys/persons/{kp.pk}", {"plan": "x"})
    assert denied.status_code == 403
    assert KeyPerson.objects.get().plan != "x"


def test_groups_api(world: World) -> None:
    build(world)
    api = token_client(world.alice)
    data = {
        "new_group_name": "东湖拆迁户",
        "reason": "补偿争议",
        "since": timezone.localdate().isoformat(),
        "unit_id": world.street.pk,
        "headcount": 12,
    }
    r = api.post("/prevention/keys/groups", data)
    assert r.status_code == 201, r.content
    gid = r.json()["id"]
    again = api.post("/prevention/keys/groups", data)
    assert again.status_code == 400 and again.json()["detail"]
    assert api.post(f"/prevention/keys/groups/{gid}", {"headcount": 20}).json()["headcount"] == 20
    assert (
        api.post(
            f"/prevention/keys/groups/{gid}/contacts", {"method": "talk", "note": "约谈代表"}
        ).status_code
        == 201
    )
    assert api.get("/prevention/keys/groups").json()["count"] == 1
    assert api.get(f"/prevention/keys/groups/{gid}").json()["name"] == "东湖拆迁户"
    assert token_client(world.bob).get(f"/prevention/keys/groups/{gid}").status_code == 404
    assert api.post(f"/prevention/keys/groups/{gid}/remove", {"reason": "解决"}).status_code == 200


def test_dashboard_api(world: World, pv: Any) -> None:
    pv.dispute(risk_level="high")
    api = token_client(world.leo)
    r = api.get("/prevention/dashboard")
    assert r.status_code == 200
    got = r.json()
    assert got["unit"] == "示范区" and got["disputes_open"] == 1
    assert got["disputes_by_risk"]["high"] == 1 and got["key_persons"] == 0
    assert got["tree"]["children"]
    hank = token_client(world.hank)
    assert hank.get("/prevention/dashboard").json()["key_persons"] is None
    assert hank.get("/prevention/dashboard", unit_id=world.sibling.pk).status_code == 404
    assert token_client(world.sam).get("/prevention/dashboard").status_code == 404


def test_list_requests_are_audited_without_search_words(world: World) -> None:
    """Review finding 15: one ``keyperson_view`` row per list request, no search words."""
    kw = build(world)
    flag(kw)
    api = token_client(world.alice)
    before = AuditEntry.objects.filter(action="keyperson_view", detail__list=True).count()
    r = api.get("/prevention/keys/persons", q="张三", review_overdue="true")
    assert r.status_code == 200
    assert api.get("/prevention/keys/groups").status_code == 200
    rows = list(
        AuditEntry.objects.filter(action="keyperson_view", detail__list=True).order_by("seq")
    )
    assert len(rows) == before + 2
    person, group = rows[-2:]
    assert person.object_type == "keyperson" and group.object_type == "keygroup"
    assert person.detail["via"] == "api" and person.detail["count"] == r.json()["count"]
    assert person.detail["filters"]["review_overdue"] is True
    assert "张三" not in str(person.detail) and "张三" not in person.summary
