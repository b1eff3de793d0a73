"""``POST /api/portal/submissions``: anonymous, idempotent by ``client_token``, the form's
checks and rate limits, documented in the OpenAPI schema."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from tests.conftest import VALID_ID
from tests.portal.submit.conftest import PHONE
from xinfang.cases.models import Case
from xinfang.portal import services
from xinfang.portal.models import PortalSubmission
from xinfang.portal.submission import SIGNERS_MESSAGE

URL = "/api/portal/submissions"


def body(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "client_token": "c0ffee-0001",
        "name": "张三",
        "id_type": "resident",
        "id_number": VALID_ID,
        "phone": PHONE,
        "purpose": "appeal",
        "summary": "反映小区物业费上涨问题",
        "content": "物业公司未经业主大会同意上调物业费。",
        "consent": True,
    }
    data.update(overrides)
    return data


def post(client: Client, data: dict[str, Any], **extra: Any) -> Any:
    return client.post(URL, json.dumps(data), content_type="application/json", **extra)


def test_first_201_then_200_with_the_same_case(client: Client, world: Any) -> None:
    first = post(client, body())
    assert first.status_code == 201, first.content
    out = first.json()
    assert set(out) == {"number", "query_code", "received_at"}
    again = post(client, body())
    assert again.status_code == 200 and again.json() == out
    case = Case.objects.get()
    assert case.number == out["number"] and case.channel == "online"
    assert case.idempotency_key == "portal-api:c0ffee-0001"
    assert case.office_unit == services.portal_office()
    assert PortalSubmission.objects.filter(case=case).exists()


def test_the_token_does_not_reveal_someone_elses_case(client: Client, world: Any) -> None:
    assert post(client, body()).status_code == 201
    other = post(client, body(phone="13900000000"))
    assert other.status_code == 409 and "query_code" not in other.content.decode()


def test_every_error_listed(client: Client, world: Any) -> None:
    response = post(client, body(id_number="110105194912310021", summary="", consent=False))
    assert response.status_code == 400
    out = response.json()
    assert out["code"] == "invalid" and out["field"] == "id_number"
    assert set(out["errors"]) == {"id_number", "summary", "consent"}
    assert not Case.objects.exists()


def test_sixth_signer(client: Client, world: Any) -> None:
    response = post(client, body(cosigners=[{"name": f"联名人{i}"} for i in range(5)]))
    assert response.status_code == 400 and response.json()["errors"]["cosigners"] == SIGNERS_MESSAGE
    ok = post(client, body(cosigners=[{"name": f"联名人{i}"} for i in range(4)]))
    assert ok.status_code == 201 and Case.objects.get().parties.count() == 5


def test_shape_errors_are_422(client: Client, world: Any) -> None:
    assert post(client, body(client_token="short")).status_code == 422
    assert post(client, body(purpose="complaint")).status_code == 422


def test_rate_limited(client: Client, world: Any, settings: Any) -> None:
    settings.XINFANG_RATES = dict(settings.XINFANG_RATES, portal_submit_ip="1/1h")
    assert post(client, body()).status_code == 201
    limited = post(client, body(client_token="c0ffee-0002"))
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    assert limited.json()["code"] == "throttled" and "频繁" in limited.json()["detail"]
    assert post(client, body()).status_code == 200  # the retry of the first: not refused


def test_emoji_and_extension_b_intact(client: Client, world: Any) -> None:
    rare = "𠀀𪚥😀"
    assert (
        post(client, body(name=f"张{rare}", summary=f"反映{rare}", content=rare)).status_code == 201
    )
    case = Case.objects.get()
    assert case.summary == f"反映{rare}" and case.content == rare
    assert case.parties.get().petitioner.name == f"张{rare}"


def test_documented_in_the_schema(client: Client, world: Any) -> None:
    schema = client.get("/api/openapi.json").json()
    op = schema["paths"][URL]["post"]
    assert op["summary"] == "网上提交信访事项"
    assert {"200", "201", "400", "422", "429"} <= set(op["responses"])
    ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    props = schema["components"]["schemas"][ref]["properties"]
    assert "幂等" in props["client_token"]["description"]
    assert props["consent"]["description"].startswith("是否已阅读")
