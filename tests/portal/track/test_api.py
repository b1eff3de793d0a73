"""The stateless JSON API of 查询办理: /api/portal/track, /evaluate, /review."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from tests.conftest import World, reply_case
from tests.portal.track.conftest import ID_TAIL, PHONE
from xinfang.cases.models import Case, Status
from xinfang.followup.models import OfficeTask

FAILED = "查询码或验证信息不正确，请核对后重试"


def post(path: str, body: dict[str, Any], client: Client | None = None, **extra: Any) -> Any:
    client = client or Client(enforce_csrf_checks=True)  # no session: no CSRF needed
    return client.post(
        f"/api/portal/{path}", json.dumps(body), content_type="application/json", **extra
    )


def test_track_returns_the_public_view(world: World, register: Any) -> None:
    case = reply_case(world, register())
    response = post("track", {"code": case.query_code, "secret": "138 1234 5678"})
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["number"] == case.number and data["status"] == "replied"
    assert data["status_label"] == "已答复" and data["confidential"] is False
    assert data["unit"] == "东湖街道"
    assert [e["kind"] for e in data["timeline"]] == ["register", "assign", "accept", "reply"]
    assert {"at", "kind", "title", "text"} == set(data["timeline"][0])
    assert data["can_evaluate"] is True and data["evaluate_until"]
    assert data["can_review"] is True and data["review_until"]
    assert data["can_rereview"] is False and data["rereview_until"] is None
    body = json.dumps(data, ensure_ascii=False)
    for name in ["艾丽", "芮塔", "韩克", "乌玛", "首问责任人"]:
        assert name not in body


def test_failures_are_one_uniform_404(world: World, register: Any) -> None:
    case = register()
    answers = [
        post("track", {"code": "ABCD2345EFGH", "secret": PHONE}),
        post("track", {"code": case.query_code, "secret": "13900000000"}),
        post("track", {"code": "?!", "secret": ID_TAIL}),
        post("evaluate", {"code": case.query_code, "secret": "000000", "evaluation": "satisfied"}),
    ]
    for response in answers:
        assert response.status_code == 404
        assert response.json() == {"detail": FAILED, "field": None, "code": "not_found"}


def test_track_rate_limited(world: World, register: Any, settings: Any) -> None:
    settings.XINFANG_RATES = dict(settings.XINFANG_RATES) | {"portal_track_code": "2/1h"}
    case = register()
    for secret in ("13900000001", "13900000002"):
        assert post("track", {"code": case.query_code, "secret": secret}).status_code == 404
    blocked = post("track", {"code": case.query_code, "secret": PHONE})
    assert blocked.status_code == 429 and int(blocked["Retry-After"]) > 0
    assert blocked.json()["code"] == "throttled"


def test_confidential_case_shows_the_state_only(world: World, register: Any) -> None:
    case = register(purpose="accusation", summary="举报干部收受红包", accused_text="赵某某")
    from xinfang.cases import services as S

    S.case_assign(case=case, by=world.alice, unit=world.street)
    data = post("track", {"code": case.query_code, "secret": PHONE}).json()
    assert data["confidential"] is True and data["timeline"] == []
    assert data["unit"] is None and data["deadlines"] == []
    body = json.dumps(data, ensure_ascii=False)
    assert "东湖街道" not in body and "红包" not in body and "赵某某" not in body


def test_evaluate_and_review_through_the_api(world: World, register: Any) -> None:
    case = reply_case(world, register())
    proof = {"code": case.query_code, "secret": ID_TAIL}
    bad = post("evaluate", proof | {"evaluation": "meh"})
    assert bad.status_code == 422
    response = post("evaluate", proof | {"evaluation": "unsatisfied", "comment": "还是没解决"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "evaluated" and response.json()["can_evaluate"] is False
    assert OfficeTask.objects.filter(case=case).count() == 1
    again = post("evaluate", proof | {"evaluation": "satisfied"})
    assert again.status_code == 400 and "已评价" in again.json()["detail"]
    short = post("review", proof | {"kind": "review", "reason": "不"})
    assert short.status_code == 400 and short.json()["field"] == "reason"
    done = post("review", proof | {"kind": "review", "reason": "答复没有解决实际问题"})
    assert done.status_code == 200 and done.json()["status"] == "review_requested"
    assert Case.objects.get(pk=case.pk).status == Status.REVIEW_REQUESTED
    ev = Case.objects.get(pk=case.pk).events.get(kind="request_review")
    assert ev.actor is None and ev.data["by_petitioner"] == "portal"


def test_api_is_in_the_openapi_schema(world: World) -> None:
    schema = Client().get("/api/openapi.json").json()
    for path in ("/api/portal/track", "/api/portal/evaluate", "/api/portal/review"):
        assert path in schema["paths"], path
