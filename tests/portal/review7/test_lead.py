"""Regression tests of the review findings fixed after the review (N1–N8 of the report): the
per-code limit counts failed proofs only, the API's state code is the public one, the portal
API is never cached, codes are masked in logs, the principal is immutable."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import pytest
from django.test import Client

from tests.conftest import World
from xinfang.cases import services as S
from xinfang.cases.policy import PetitionerPrincipal
from xinfang.notify.backends import mask_query_codes

PHONE = "13812345678"


def _track(client: Client, code: str, secret: str) -> Any:
    return client.post("/portal/track/", {"code": code, "secret": secret})


def test_owner_lookups_do_not_use_up_the_per_code_limit(
    world: World, register: Any, settings: Any
) -> None:
    settings.XINFANG_RATES = dict(settings.XINFANG_RATES) | {
        "portal_track_ip": "0",
        "portal_track_code": "2/1h",
    }
    case = register()
    for _ in range(5):  # the owner looks again and again
        assert _track(Client(), case.query_code, PHONE).status_code == 303
    for _ in range(2):  # someone guessing
        assert _track(Client(), case.query_code, "13900000000").status_code == 200
    blocked = _track(Client(), case.query_code, PHONE)
    assert blocked.status_code == 429 and int(blocked["Retry-After"]) > 0
    api = Client().post(
        "/api/portal/track",
        {"code": case.query_code, "secret": PHONE},
        content_type="application/json",
    )
    assert api.status_code == 429


def test_api_state_code_is_the_public_one_and_not_cached(
    world: World, register: Any, settings: Any
) -> None:
    settings.XINFANG_RATES = {name: "0" for name in settings.XINFANG_RATES}
    case = register()
    S.case_assign(case=case, by=world.alice, unit=world.street)
    S.case_sign_in(case=case, by=world.hank)

    def track() -> Any:
        return Client().post(
            "/api/portal/track",
            {"code": case.query_code, "secret": PHONE},
            content_type="application/json",
        )

    response = track()
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert response.json()["status"] == "routed"  # 签收 is the office's business
    S.case_return(case=case, by=world.hank, reason="不属于本单位职责范围，请重新交办")
    assert track().json()["status"] == "received"  # 退回 is not told either
    failed = Client().post(
        "/api/portal/track",
        {"code": "ZZZZZZZZZZ", "secret": PHONE},
        content_type="application/json",
    )
    assert failed.status_code == 404 and failed["Cache-Control"] == "no-store"


def test_codes_never_reach_the_log(world: World, caplog: Any, settings: Any) -> None:
    assert mask_query_codes("查询码ZQYEFHTFR4，可凭") == "查询码ZQ********，可凭"
    assert mask_query_codes("XF-110105-2026-000001") == "XF-110105-2026-000001"
    from xinfang.portal import accounts

    settings.XINFANG_MESSAGE_BACKEND = "console"
    with caplog.at_level(logging.INFO, logger="xinfang.notify.messages"):
        accounts.send_code(PHONE, "您的验证码是 482913，10分钟内有效。")
    assert "482913" not in caplog.text and "******" in caplog.text


def test_the_principal_cannot_be_repointed() -> None:
    me = PetitionerPrincipal(case_id=1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        me.case_id = 2  # type: ignore[misc]
