"""信息员 API (tag inf): submit with client_key (201 then 200), lists, acknowledge, close."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import token_client
from tests.prevention._inf_util import make_net, urgent
from xinfang.prevention import informants as I
from xinfang.prevention.models import Alert, InformantReport

pytestmark = pytest.mark.django_db


def body(world: Any, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "unit_id": world.community.pk,
        "urgency": "urgent",
        "signal": "gathering",
        "title": "广场聚集苗头",
        "text": "有二十余人约定周末在社区广场聚集",
        "headcount": 20,
        "client_key": "api-1",
    }
    data.update(overrides)
    return data


def test_submit_201_then_200_same_report(world: Any) -> None:
    net = make_net(world)
    api = token_client(net.ivan)
    r1 = api.post("/prevention/informant-reports", body(world))
    assert r1.status_code == 201, r1.content
    r2 = api.post("/prevention/informant-reports", body(world))
    assert r2.status_code == 200 and r2.json()["id"] == r1.json()["id"]
    assert InformantReport.objects.count() == 1 and Alert.objects.count() == 1
    assert r1.json()["state"] == "new" and r1.json()["signal_label"] == "聚集/群体性事件苗头"


def test_submit_bad_input(world: Any) -> None:
    net = make_net(world)
    api = token_client(net.ivan)
    r = api.post("/prevention/informant-reports", body(world, unit_id=world.sibling.pk))
    assert r.status_code == 400 and r.json()["field"] == "unit_id"
    assert "您不是「西山街道」的信息员" in r.json()["detail"]
    r = api.post("/prevention/informant-reports", body(world, signal=""))
    assert r.status_code == 400 and r.json()["field"] == "signal"
    r = api.post("/prevention/informant-reports", body(world, headcount=0))
    assert r.status_code == 422
    assert not InformantReport.objects.exists()


def test_lists_mine_and_in_scope(world: Any) -> None:
    net = make_net(world)
    mine = urgent(world, net.ivan)
    other = I.report_submit(net.wang, unit=world.sibling, urgency="routine", title="t", text="x")
    r = token_client(net.ivan).get("/prevention/informant-reports")
    assert [i["id"] for i in r.json()["items"]] == [mine.pk]
    leo = token_client(world.leo)
    items = leo.get("/prevention/informant-reports").json()["items"]
    assert [i["id"] for i in items] == [mine.pk, other.pk]  # urgent unacknowledged first
    items = leo.get("/prevention/informant-reports", urgency="routine").json()["items"]
    assert [i["id"] for i in items] == [other.pk]
    r = leo.get("/prevention/informant-reports", state="bogus")
    assert r.status_code == 400
    assert (
        token_client(world.bob).get(f"/prevention/informant-reports/{mine.pk}").status_code == 404
    )
    assert token_client(net.wang).get(f"/prevention/informant-reports/{mine.pk}").status_code == 404


def test_acknowledge_and_close(world: Any) -> None:
    net = make_net(world)
    rep = urgent(world, net.ivan)
    r = token_client(world.bob).post(f"/prevention/informant-reports/{rep.pk}/acknowledge")
    assert r.status_code == 404
    r = token_client(world.hank).post(f"/prevention/informant-reports/{rep.pk}/acknowledge")
    assert r.status_code == 403 and r.json()["detail"].startswith("该报告不在您的职责范围内")
    r = token_client(net.ivan).post(f"/prevention/informant-reports/{rep.pk}/acknowledge")
    assert r.status_code == 403
    leo = token_client(world.leo)
    r = leo.post(f"/prevention/informant-reports/{rep.pk}/acknowledge")
    assert r.status_code == 200 and r.json()["acknowledged_by"] == "黎奥"
    r = leo.post(f"/prevention/informant-reports/{rep.pk}/acknowledge")
    assert r.status_code == 409
    r = leo.post(f"/prevention/informant-reports/{rep.pk}/note", {"text": "已安排"})
    assert r.status_code == 200
    r = leo.post(f"/prevention/informant-reports/{rep.pk}/close", {"outcome": ""})
    assert r.status_code == 400 and r.json()["field"] == "outcome"
    r = leo.post(f"/prevention/informant-reports/{rep.pk}/close", {"outcome": "已劝散"})
    assert r.status_code == 200 and r.json()["state"] == "closed"
    # the informant sees the state but not the internal outcome text
    r = token_client(net.ivan).get(f"/prevention/informant-reports/{rep.pk}")
    assert r.json()["state"] == "closed" and r.json()["handling"] == ""


def test_informants_list(world: Any) -> None:
    make_net(world)
    names = [
        i["name"] for i in token_client(world.leo).get("/prevention/informants").json()["items"]
    ]
    assert sorted(names) == ["伊万", "王五"]
    names = [
        i["name"] for i in token_client(world.uma).get("/prevention/informants").json()["items"]
    ]
    assert names == ["伊万"]
    r = token_client(world.leo).get("/prevention/informants", q="东湖")
    assert [i["username"] for i in r.json()["items"]] == ["ivan"]
