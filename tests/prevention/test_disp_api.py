"""/api/prevention/disputes…: same services as the pages; 400/403/404/409 as documented."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.api.conftest import token_client
from tests.prevention.conftest import PV
from xinfang.prevention.models import Dispute, DisputeState

RES = "经街道调解，物业公司同意暂缓上调，业主补缴欠费。"
EVI = "调解协议一份，双方签字；回访业主三户，均表示满意。"


def body(pv: PV, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "东湖社区拆迁补偿纠纷",
        "description": "拆迁户对补偿标准有异议。",
        "source": "screening",
        "parties": "李某",
        "headcount": 3,
        "place_unit_id": pv.community.pk,
        "unit_id": pv.street.pk,
        "risk_level": "low",
    }
    data.update(overrides)
    return data


def test_create_idempotent_and_detail(pv: PV) -> None:
    api = token_client(pv.hank)
    r = api.post("/prevention/disputes", body(pv), **{"Idempotency-Key": "abc"})
    assert r.status_code == 201, r.content
    data = r.json()
    assert data["number"].startswith("MD") and data["state"] == "open"
    assert [e["kind"] for e in data["events"]] == ["create"]
    r2 = api.post("/prevention/disputes", body(pv), **{"Idempotency-Key": "abc"})
    assert r2.status_code == 200 and r2.json()["id"] == data["id"]
    assert Dispute.objects.count() == 1
    # Another user's key: not revealed.
    r3 = token_client(pv.bob).post(
        "/prevention/disputes",
        body(pv, place_unit_id=pv.sibling.pk, unit_id=pv.sibling.pk),
        **{"Idempotency-Key": "abc"},
    )
    assert r3.status_code == 409 and r3.json()["code"] == "idempotency_conflict"


def test_create_errors(pv: PV) -> None:
    api = token_client(pv.hank)
    r = api.post("/prevention/disputes", body(pv, parties=""))
    assert r.status_code == 400 and r.json()["field"] == "parties"
    r = api.post("/prevention/disputes", body(pv, owner_id=pv.bob.pk))
    assert r.status_code == 400 and r.json()["field"] == "owner_id"
    r = api.post("/prevention/disputes", body(pv, unit_id=999999))
    assert r.status_code == 400 and r.json()["field"] == "unit_id"
    r = token_client(pv.bob).post("/prevention/disputes", body(pv))
    assert r.status_code == 403


def test_list_filters_and_scope(pv: PV) -> None:
    pv.dispute(title="东湖的事")
    pv.dispute(title="西山的事", place_unit=pv.sibling, unit=pv.sibling, by=pv.bob)
    items = token_client(pv.hank).get("/prevention/disputes").json()["items"]
    assert [i["title"] for i in items] == ["东湖的事"]
    assert token_client(pv.leo).get("/prevention/disputes").json()["count"] == 2
    r = token_client(pv.hank).get("/prevention/disputes", state="nope")
    assert r.status_code == 400
    r = token_client(pv.hank).get("/prevention/disputes", unit_id=pv.sibling.pk)
    assert r.status_code == 400
    assert token_client(pv.leo).get("/prevention/disputes", q="西山").json()["count"] == 1


VALID = {
    "update": {"title": "新名字"},
    "contact": {"method": "phone", "person": "李某", "note": "电话沟通，同意调解"},
    "request-strike": {"resolution": RES, "evidence": EVI},
    "decide-strike": {"approve": True, "note": "同意"},
}


@pytest.mark.parametrize("path", list(VALID))
def test_detail_404_for_other_street(pv: PV, path: str) -> None:
    """A valid body, so the 404 comes from the scope (not from body validation)."""
    d = pv.pending() if path == "decide-strike" else pv.dispute()
    assert token_client(pv.bob).get(f"/prevention/disputes/{d.pk}").status_code == 404
    r = token_client(pv.bob).post(f"/prevention/disputes/{d.pk}/{path}", VALID[path])
    assert r.status_code == 404
    assert r.json()["detail"] == "未找到该台账事项（不存在或不在您的权限范围内）"
    before = d.state
    d.refresh_from_db()
    assert (d.state, d.title) == (before, "幸福里小区物业费纠纷")


def test_update_contact_strike_flow(pv: PV) -> None:
    d = pv.dispute()
    hank = token_client(pv.hank)
    r = hank.post(
        f"/prevention/disputes/{d.pk}/update", {"title": "新名字", "owner_id": pv.hank.pk}
    )
    assert r.status_code == 200 and r.json()["title"] == "新名字" and r.json()["owner"] == "韩克"
    r = hank.post(f"/prevention/disputes/{d.pk}/update", {"headcount": 30, "risk_level": "medium"})
    assert r.status_code == 400 and r.json()["field"] == "reason"
    r = hank.post(
        f"/prevention/disputes/{d.pk}/contact",
        {"method": "phone", "person": "李某", "note": "电话沟通，同意调解"},
    )
    assert r.status_code == 200 and r.json()["events"][-1]["kind"] == "contact"
    r = hank.post(
        f"/prevention/disputes/{d.pk}/request-strike", {"resolution": RES, "evidence": EVI}
    )
    assert r.status_code == 400 and r.json()["field"] == "files"
    up = hank.client.post(
        f"/api/prevention/disputes/{d.pk}/files",
        {"file": SimpleUploadedFile("协议.txt", "调解协议全文".encode())},
    )
    assert up.status_code == 200 and len(up.json()["files"]) == 1
    r = hank.post(
        f"/prevention/disputes/{d.pk}/request-strike", {"resolution": RES, "evidence": EVI}
    )
    assert r.status_code == 200 and r.json()["state"] == "pending"
    r = token_client(pv.uma).post(f"/prevention/disputes/{d.pk}/decide-strike", {"approve": True})
    assert r.status_code == 403
    r = token_client(pv.alice).post(
        f"/prevention/disputes/{d.pk}/decide-strike", {"approve": True, "note": "同意"}
    )
    assert r.status_code == 200 and r.json()["state"] == "struck"
    assert r.json()["struck_unit"] == "区信访局"
    r = token_client(pv.leo).post(f"/prevention/disputes/{d.pk}/decide-strike", {"approve": True})
    assert r.status_code == 409 and r.json()["code"] == "concurrent_change"
    r = hank.post(f"/prevention/disputes/{d.pk}/update", {"title": "再改"})
    assert r.status_code == 400 and "已销号" in r.json()["detail"]
    d.refresh_from_db()
    assert d.state == DisputeState.STRUCK


@pytest.mark.parametrize("path", list(VALID))
def test_unknown_item_404(pv: PV, path: str) -> None:
    r = token_client(pv.hank).post(f"/prevention/disputes/999999/{path}", VALID[path])
    assert r.status_code == 404


def test_create_from_accusation_refused(pv: PV, register: Any) -> None:
    """A 检举控告件 is never a dispute source: 400 on case_id for those who may read it, the
    ordinary "not found" for the accused unit; nothing is registered."""
    from xinfang.core.idcard import id_check_digit
    from xinfang.people.services import PetitionerInput

    base = "11010519800101003"
    case = register(
        purpose="accusation",
        summary="检举西山街道干部挪用扶贫款",
        petitioners=[PetitionerInput(name="钱多多", id_number=base + id_check_digit(base))],
        accused_unit_ids=[pv.sibling.pk],
        place_code="110105002",
    )
    sent = body(
        pv,
        place_unit_id=pv.sibling.pk,
        unit_id=pv.sibling.pk,
        source="petition",
        risk_level="medium",
        case_id=case.pk,
    )
    for user in (pv.alice, pv.leo):
        r = token_client(user).post("/prevention/disputes", sent, **{"Idempotency-Key": "acc"})
        assert r.status_code == 400
        assert r.json()["detail"] == "检举控告件不能转为矛盾纠纷台账事项，请按检举控告程序办理"
        assert r.json()["field"] == "case_id"
    r = token_client(pv.bob).post("/prevention/disputes", sent)
    assert r.status_code == 400
    assert r.json()["detail"] == "该信访事项不存在或不在您的权限范围内"
    assert "钱多多" not in r.content.decode()
    assert not Dispute.objects.exists()
