"""GET /api/cases (filters, pagination, masking) and GET /api/petitioners/lookup."""

from __future__ import annotations

from tests.api.conftest import registration_body
from tests.conftest import VALID_ID

OTHER_ID = "110101199003078515"


def _register(api, world, **overrides):
    response = api.post("/cases", registration_body(world, **overrides))
    assert response.status_code == 201, response.content
    return response.json()


def test_list_rows_filters_and_pages(world, as_user):
    rita = as_user(world.rita)
    first = _register(rita, world, summary="反映电梯长期故障")
    _register(rita, world, summary="反映噪音扰民", channel="letter")
    third = _register(
        rita,
        world,
        summary="反映道路积水",
        petitioners=[{"name": "李四", "id_number": OTHER_ID, "phone": "010-62345678"}],
    )

    page = rita.get("/cases", page_size=2).json()
    assert page["count"] == 3
    assert len(page["items"]) == 2
    assert page["items"][0]["id"] == third["id"]  # newest received first
    assert len(rita.get("/cases", page_size=2, page=2).json()["items"]) == 1
    assert rita.get("/cases", page=9).json()["items"] == []

    row = page["items"][0]
    assert row["number"] == third["number"]
    assert row["status"] == {"code": "registered", "label": "已登记"}
    assert row["channel"] == {"code": "visit", "label": "来访"}
    assert row["purpose"] == {"code": "appeal", "label": "申诉求决"}
    assert row["summary"] == "反映道路积水"
    assert row["handling_unit"] is None
    assert row["deadline_state"] == {"code": "normal", "label": "正常"}
    assert row["first_petitioner"] == {
        "name": "李四",
        "id_masked": "110101********8515",
        "phone_masked": "010-****5678",
    }
    assert OTHER_ID not in str(page) and "62345678" not in str(page)

    letters = rita.get("/cases", channel="letter").json()
    assert letters["count"] == 1 and letters["items"][0]["summary"] == "反映噪音扰民"
    assert rita.get("/cases", q="电梯").json()["items"][0]["id"] == first["id"]
    assert rita.get("/cases", status="closed").json()["count"] == 0
    assert rita.get("/cases", deadline="normal").json()["count"] == 3
    assert rita.get("/cases", deadline="overdue").json()["count"] == 0
    # phone as people type it (see the selectors fix): spaces and the landline's area code
    assert rita.get("/cases", q="138 1234 5678").json()["count"] == 2
    assert rita.get("/cases", q="01062345678").json()["items"][0]["id"] == third["id"]


def test_list_rejects_bad_parameters_with_422(world, as_user):
    rita = as_user(world.rita)
    too_big = rita.get("/cases", page_size=101)
    assert too_big.status_code == 422
    assert "page_size 不能大于100" in too_big.json()["detail"]
    assert rita.get("/cases", status="lost").status_code == 422
    assert rita.get("/cases", date_from="2025-13-01").status_code == 422


def test_lookup_by_id_phone_and_name(world, as_user):
    rita = as_user(world.rita)
    case = _register(rita, world)
    for q in (VALID_ID, "13812345678", "138 1234 5678", "张三"):
        data = rita.get("/petitioners/lookup", q=q).json()
        assert len(data["items"]) == 1, q
        person = data["items"][0]
        assert person["name"] == "张三"
        assert person["id_masked"] == "110105********002X"
        assert person["phone_masked"] == "138****5678"
        assert [c["number"] for c in person["cases"]] == [case["number"]]
    assert rita.get("/petitioners/lookup", q="王五").json() == {"items": [], "truncated": False}
    vague = rita.get("/petitioners/lookup", q="zhang")
    assert vague.status_code == 400
    assert vague.json()["field"] == "q"
    assert rita.get("/petitioners/lookup").status_code == 422
