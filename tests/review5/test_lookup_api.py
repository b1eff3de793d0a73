"""Review of issue 5: the lookup API takes the query in a POST body too, so an ID number or
phone need not travel in the URL (access logs, proxies)."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from tests.conftest import VALID_ID, World
from xinfang.org.models import ApiToken


def _api(user: Any) -> Client:
    _, raw = ApiToken.issue(user=user, name="t")
    return Client(headers={"Authorization": f"Bearer {raw}"})


def test_lookup_by_post_body_same_as_get(world: World, register: Any) -> None:
    case = register()
    c = _api(world.alice)
    body = json.dumps({"q": VALID_ID})
    got = c.post("/api/people/lookup", data=body, content_type="application/json")
    assert got.status_code == 200, got.content
    data = got.json()
    assert data["kind"] == "id_full"
    assert [p["cases"][0]["id"] for p in data["persons"]] == [case.pk]
    assert VALID_ID not in got.content.decode()  # masked, like the card
    assert c.get("/api/people/lookup", {"q": VALID_ID}).json() == data
    # roles that read no cases: the lookup does not exist for them
    nobody = _api(world.sam).post("/api/people/lookup", data=body, content_type="application/json")
    assert nobody.status_code == 404
    # a unit outside the case's scope finds nobody
    other = _api(world.bob).post("/api/people/lookup", data=body, content_type="application/json")
    assert other.status_code == 200 and other.json()["persons"] == []
