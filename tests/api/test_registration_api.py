"""POST /api/cases: registration over HTTP, auth, CSRF, idempotency and the domain's errors."""

from __future__ import annotations

import datetime as dt

from django.test import Client
from django.utils import timezone

from tests.api.conftest import registration_body, token_client
from tests.conftest import VALID_ID
from xinfang.cases.models import Case


def test_session_post_needs_the_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.rita)
    body = registration_body(world)

    refused = client.post("/api/cases", body, content_type="application/json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf"
    assert "CSRF" in refused.json()["detail"]
    assert not Case.objects.exists()

    assert client.get("/api/cases").status_code == 200  # reads need no token
    client.get("/api/docs")  # any page that renders the token sets the csrftoken cookie
    token = client.cookies["csrftoken"].value
    created = client.post(
        "/api/cases", body, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert created.status_code == 201, created.content
    assert created.json()["status"] == {"code": "registered", "label": "已登记"}


def test_token_post_needs_no_csrf_and_shows_people_masked(world):
    api = token_client(world.rita)
    response = api.post("/cases", registration_body(world))
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["number"].startswith("XF-110105-")
    assert data["office_unit"] == {"id": world.office.pk, "name": "区信访局"}
    assert data["registered_by"] == "芮塔"
    person = data["petitioners"][0]
    assert person["name"] == "张三"
    assert person["id_masked"] == "110105********002X"
    assert person["phone_masked"] == "138****5678"
    text = response.content.decode()
    assert VALID_ID not in text and "13812345678" not in text
    assert [e["kind"] for e in data["events"]] == ["register"]
    assert data["events"][0]["label"] == "登记"
    assert data["events"][0]["actor"] == "芮塔"
    assert [d["kind"]["code"] for d in data["deadlines"]] == ["route"]
    assert data["deadline_state"] == {"code": "normal", "label": "正常"}
    # rita is 接待员: of the routing actions only 告知 is hers.
    assert [a["code"] for a in data["allowed_actions"]] == ["inform"]
    assert data["received_at"].endswith("+08:00")


def test_idempotency_key_header_returns_the_same_case(world):
    api = token_client(world.rita)
    first = api.post("/cases", registration_body(world), **{"Idempotency-Key": "form-123"})
    again = api.post("/cases", registration_body(world), **{"Idempotency-Key": "form-123"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["number"] == again.json()["number"]
    assert Case.objects.count() == 1


def test_idempotency_key_in_body_and_header_must_agree(world):
    api = token_client(world.rita)
    body = registration_body(world, idempotency_key="k-1")
    assert api.post("/cases", body).status_code == 201
    assert api.post("/cases", body).status_code == 200
    clash = api.post("/cases", body, **{"Idempotency-Key": "k-2"})
    assert clash.status_code == 400
    assert clash.json()["field"] == "idempotency_key"
    assert Case.objects.count() == 1


def test_idempotency_key_of_a_case_out_of_sight_is_a_conflict(world):
    from tests.conftest import make_user
    from xinfang.org import roles as R

    token_client(world.rita).post("/cases", registration_body(world), **{"Idempotency-Key": "k"})
    street_clerk = make_user("sue", world.street, R.RECEPTIONIST)
    body = registration_body(world, office_unit_id=world.street.pk)
    response = token_client(street_clerk).post("/cases", body, **{"Idempotency-Key": "k"})
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_conflict"
    assert "XF-" not in response.content.decode()


def test_bad_id_check_digit_is_400_with_chinese_message_and_field(world):
    body = registration_body(world)
    body["petitioners"][0]["id_number"] = VALID_ID[:-1] + "1"
    response = token_client(world.rita).post("/cases", body)
    assert response.status_code == 400
    assert response.json() == {
        "detail": "身份证号第18位校验码应为X，当前为1",
        "field": "petitioners.0.id_number",
        "code": "invalid",
    }
    assert not Case.objects.exists()


def test_six_representatives_is_400(world):
    reps = [{"name": f"代表{i}"} for i in range(6)]
    body = registration_body(world, channel="collective_visit", representatives=reps)
    response = token_client(world.rita).post("/cases", body)
    assert response.status_code == 400
    assert response.json()["field"] == "representatives"
    assert "最多登记5名代表" in response.json()["detail"]


def test_five_representatives_register_a_collective_visit(world):
    reps = [{"name": f"代表{'甲乙丙丁戊'[i]}"} for i in range(5)]
    body = registration_body(world, channel="collective_visit", representatives=reps)
    response = token_client(world.rita).post("/cases", body)
    assert response.status_code == 201, response.content
    assert response.json()["is_collective"] is True
    assert response.json()["headcount"] == 6


def test_future_received_time_is_400(world):
    future = (timezone.now() + dt.timedelta(days=1)).isoformat()
    response = token_client(world.rita).post("/cases", registration_body(world, received_at=future))
    assert response.status_code == 400
    assert response.json()["field"] == "received_at"
    assert "晚于当前时间" in response.json()["detail"]


def test_naive_received_time_is_beijing_time(world):
    local = timezone.localtime() - dt.timedelta(hours=2)
    naive = local.replace(tzinfo=None, microsecond=0).isoformat()
    response = token_client(world.rita).post("/cases", registration_body(world, received_at=naive))
    assert response.status_code == 201, response.content
    assert response.json()["received_at"] == local.replace(microsecond=0).isoformat()


def test_malformed_body_is_422_in_chinese(world):
    body = registration_body(world, channel="pigeon")
    del body["summary"]
    response = token_client(world.rita).post("/cases", body)
    assert response.status_code == 422
    data = response.json()
    assert data["code"] == "validation"
    assert data["detail"].startswith("请求数据有误：")
    by_type = {e["type"]: e for e in data["errors"]}
    assert by_type["missing"]["msg"] == "必填"
    assert by_type["missing"]["loc"][-1] == "summary"
    assert by_type["enum"]["msg"].startswith("取值无效，可选：")


def test_registering_outside_ones_office_is_403_and_unknown_office_400(world):
    body = registration_body(world)
    refused = token_client(world.hank).post("/cases", body)
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"
    unknown = token_client(world.rita).post("/cases", registration_body(world, office_unit_id=0))
    assert unknown.status_code == 400
    assert unknown.json()["field"] == "office_unit_id"


def test_related_case_must_be_one_the_clerk_can_see(world):
    from tests.conftest import make_user
    from xinfang.org import roles as R

    earlier = token_client(world.rita).post("/cases", registration_body(world)).json()
    street_clerk = make_user("sue", world.street, R.RECEPTIONIST)
    body = registration_body(world, office_unit_id=world.street.pk, related_to_id=earlier["id"])
    hidden = token_client(street_clerk).post("/cases", body)
    assert hidden.status_code == 400
    assert hidden.json()["field"] == "related_to_id"
    again = token_client(world.rita).post(
        "/cases", registration_body(world, related_to_id=earlier["id"])
    )
    assert again.status_code == 201
    assert again.json()["is_repeat"] is True
    assert again.json()["related_to"] == earlier["number"]


def test_a_repeat_of_a_case_out_of_sight_does_not_show_its_number(world):
    from tests.conftest import make_user
    from xinfang.cases.models import Category
    from xinfang.org import roles as R

    category = Category.objects.filter(level=1).first()
    assert category is not None
    earlier = token_client(world.rita).post(
        "/cases", registration_body(world, category_id=category.pk)
    )
    street_clerk = make_user("sue", world.street, R.RECEPTIONIST)
    body = registration_body(world, office_unit_id=world.street.pk, category_id=category.pk)
    response = token_client(street_clerk).post("/cases", body)
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["is_repeat"] is True  # the domain knows ...
    assert data["related_to"] is None  # ... but the street's clerk is not shown the office's case
    assert data["events"][0]["data"]["repeat_of"] is None
    assert earlier.json()["number"] not in response.content.decode()
