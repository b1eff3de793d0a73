"""API tokens, anonymous access, the token command, and the offline OpenAPI docs."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.staticfiles import finders
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from tests.api.conftest import ApiClient, registration_body
from xinfang.org.models import ApiToken


def test_token_works_and_a_revoked_token_is_401(world):
    token, raw = ApiToken.issue(user=world.rita, name="对接")
    api = ApiClient(Client(headers={"Authorization": f"Bearer {raw}"}))
    assert api.get("/cases").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None

    token.revoked_at = timezone.now()
    token.save()
    for response in (api.get("/cases"), api.post("/cases", registration_body(world))):
        assert response.status_code == 401
        assert response.json()["code"] == "unauthenticated"
        assert "吊销" in response.json()["detail"]
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_unknown_token_and_inactive_user_are_401(world):
    _, raw = ApiToken.issue(user=world.hank, name="对接")
    world.hank.is_active = False
    world.hank.save()
    for header in (f"Bearer {raw}", "Bearer xf_not-a-token"):
        assert Client(headers={"Authorization": header}).get("/api/cases").status_code == 401


def test_a_bearer_token_is_not_overridden_by_the_session(world):
    client = Client(headers={"Authorization": "Bearer xf_wrong"})
    client.force_login(world.rita)
    assert client.get("/api/cases").status_code == 401


def test_anonymous_is_401_even_for_unsafe_methods(world):
    client = Client(enforce_csrf_checks=True)
    assert client.get("/api/cases").status_code == 401
    response = client.post("/api/cases", {}, content_type="application/json")
    assert response.status_code == 401
    assert response.json()["detail"].startswith("未登录")


def test_issue_api_token_command(world):
    out, err = io.StringIO(), io.StringIO()
    call_command("issue_api_token", "alice", "--name", "市平台对接", stdout=out, stderr=err)
    raw = out.getvalue().strip()
    assert raw.startswith("xf_")
    assert "只显示这一次" in err.getvalue()
    token = ApiToken.objects.get(user=world.alice)
    assert token.name == "市平台对接" and token.prefix == raw[:8]
    assert raw not in token.key_hash
    api = ApiClient(Client(headers={"Authorization": f"Bearer {raw}"}))
    assert api.get("/cases").status_code == 200
    with pytest.raises(CommandError, match="不存在"):
        call_command("issue_api_token", "nobody", "--name", "x", stdout=out, stderr=err)


def test_openapi_schema_lists_the_paths(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "民声 · 信访工作平台 API"
    assert schema["info"]["version"] == "1"
    for path in (
        "/api/cases",
        "/api/cases/{case_id}",
        "/api/petitioners/lookup",
        "/api/cases/{case_id}/actions/accept",
    ):
        assert path in schema["paths"], path
    register = schema["paths"]["/api/cases"]["post"]
    assert {"200", "201", "400", "403", "409", "422"} <= set(register["responses"])
    headers = [p["name"] for p in register["parameters"] if p["in"] == "header"]
    assert headers == ["Idempotency-Key"]
    schemes = schema["components"]["securitySchemes"]
    assert {s["type"] for s in schemes.values()} == {"http", "apiKey"}


def test_docs_page_works_offline(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui-bundle.js" in html
    refs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert refs, html
    for ref in refs:
        assert not re.match(r"^(https?:)?//", ref), ref  # nothing from another host
        assert ref.startswith("/static/ninja/")
        assert finders.find(ref.removeprefix("/static/")), ref  # and the file is really there
    assert '"validatorUrl": null' in html  # no validator badge calling validator.swagger.io
