"""Review of issue 5: a NUL (or other control character) in the new search boxes and the 口径一致
panel is not a server error (PostgreSQL refuses NUL in a text value: it was a 500 there)."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from tests.conftest import World
from xinfang.org.models import ApiToken
from xinfang.reception import services as S


def _client(user: Any) -> Client:
    c = Client(raise_request_exception=False)
    c.force_login(user)
    return c


def test_nul_in_desk_searches_and_panel(world: World, register: Any) -> None:
    case = register()
    S.case_assign_owner(case=case, leader=world.leo, by=world.alice)
    rita = _client(world.rita)
    assert rita.get("/reception/history/", {"q": "a\x00"}).status_code == 200
    panel = rita.post(
        reverse("case_register_desk_panel"),
        {
            "group_name": "群\x00体",
            "summary": "摘\x00要",
            "content": "x\x00",
            "place_code": "1\x00",
        },
    )
    assert panel.status_code == 200
    mine = _client(world.leo).get("/reception/mine/", {"q": "物业\x00"})
    assert mine.status_code == 200
    _, raw = ApiToken.issue(user=world.alice, name="nul")
    api = Client(headers={"Authorization": f"Bearer {raw}"}, raise_request_exception=False)
    assert api.get("/api/directory/organs", {"q": "法院\x00"}).status_code == 200
