"""/api/stats/kpi…: the same figures as the page; 400/403/404 as documented."""

from __future__ import annotations

import json

from tests.api.conftest import token_client
from tests.conftest import World
from tests.stats.test_kpi_util import build
from xinfang.stats.models import VetoFlag

SEPT = {"start": "2026-09-01", "end": "2026-09-30"}


def test_kpi_rows(world: World) -> None:
    build(world)
    r = token_client(world.leo).get("/stats/kpi", unit=world.district.pk, **SEPT)
    assert r.status_code == 200, r.content
    data = r.json()
    assert data["unit"] == "示范区" and data["start"] == "2026-09-01"
    assert {k["code"]: k["weight"] for k in data["kpis"]}["on_time_reply"] == 25
    rows = {row["unit"]: row for row in data["rows"]}
    sib = rows["西山街道"]
    assert sib["rank"] == 1 and sib["score"] == 77.5 and sib["grade"] == "良好"
    assert sib["rates"]["timely_accept"] == {"num": 1, "den": 2, "rate": 50.0}
    assert sib["rates"]["satisfaction"] == {"num": 0, "den": 0, "rate": None}
    assert sib["overdue"] == 1 and not sib["veto"]
    assert rows["合计"]["role"] == "total" and rows["合计"]["rank"] is None


def test_kpi_scope_and_errors(world: World) -> None:
    uma = token_client(world.uma)
    assert uma.get("/stats/kpi", unit=world.sibling.pk).status_code == 404
    assert token_client(world.bob).get("/stats/kpi").status_code == 404
    r = token_client(world.leo).get("/stats/kpi", start="2026-09-30", end="2026-09-01")
    assert r.status_code == 400 and r.json()["field"] == "end"
    r = token_client(world.leo).get("/stats/kpi", start="2026-09-01")
    assert r.status_code == 400 and r.json()["field"] == "end"


def put(client: object, body: dict[str, object]) -> object:
    c = client.client  # type: ignore[attr-defined]
    return c.put("/api/stats/kpi/scheme", data=json.dumps(body), content_type="application/json")


def test_scheme_get_and_put(world: World) -> None:
    leo = token_client(world.leo)
    data = leo.get("/stats/kpi/scheme").json()
    assert data["weights"]["satisfaction"] == 25 and data["zero"] == "full"
    assert data["grades"] == [90, 75, 60] and len(data["veto_rules"]) == 3
    body = {
        "weights": {"participation": 100},
        "zero": "skip",
        "grades": [85, 70, 50],
        "veto_rules": data["veto_rules"],
    }
    r = put(leo, body)
    assert r.status_code == 200, r.content  # type: ignore[attr-defined]
    out = r.json()  # type: ignore[attr-defined]
    assert out["weights"]["participation"] == 100 and out["weights"]["satisfaction"] == 0
    assert out["zero"] == "skip" and out["grades"] == [85, 70, 50]
    r = put(leo, {**body, "weights": {"participation": 0}})
    assert r.status_code == 400  # type: ignore[attr-defined]
    r = put(leo, {**body, "weights": {"nope": 5}})
    assert r.status_code == 400  # type: ignore[attr-defined]
    r = put(token_client(world.uma), body)
    assert r.status_code == 403  # type: ignore[attr-defined]


def test_vetoes_add_list_revoke(world: World) -> None:
    build(world)
    leo = token_client(world.leo)
    body = {
        "unit_id": world.sibling.pk,
        "code": "mass_incident",
        "period_start": "2026-09-01",
        "period_end": "2026-09-30",
        "reason": "发生因征地补偿引发的群体性事件。",
    }
    assert leo.post("/stats/kpi/vetoes", {**body, "reason": "短"}).status_code == 400
    assert token_client(world.uma).post("/stats/kpi/vetoes", body).status_code == 404
    assert token_client(world.alice).post("/stats/kpi/vetoes", body).status_code == 201
    r = leo.post("/stats/kpi/vetoes", body)
    assert r.status_code == 201, r.content
    flag = r.json()
    assert flag["label"].startswith("发生因信访问题") and flag["revoked_at"] is None
    rows = {row["unit"]: row for row in leo.get("/stats/kpi", **SEPT).json()["rows"]}
    assert rows["西山街道"]["veto"] and rows["西山街道"]["rank"] == 3
    assert rows["西山街道"]["grade"] == "不合格"
    assert len(leo.get("/stats/kpi/vetoes").json()) == 2
    assert token_client(world.uma).get("/stats/kpi/vetoes").json() == []  # not her units
    r = leo.post(f"/stats/kpi/vetoes/{flag['id']}/revoke", {"reason": ""})
    assert r.status_code == 400
    r = leo.post(f"/stats/kpi/vetoes/{flag['id']}/revoke", {"reason": "经核实不属实"})
    assert r.status_code == 200 and r.json()["revoked_by"] == "黎奥"
    assert VetoFlag.objects.filter(revoked_at__isnull=True).count() == 1
    assert leo.post("/stats/kpi/vetoes/999999/revoke", {"reason": "不存在的"}).status_code == 404
