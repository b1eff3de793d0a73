"""Fixtures of the 查询办理 tests: a tracked case in a logged-out browser (the browser tests
are tests/e2e/test_portal_track.py)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

PHONE = "13812345678"
ID_TAIL = "31002X"  # tests.conftest.VALID_ID


def track(client: Client, code: str, secret: str, **extra: Any) -> Any:
    return client.post("/portal/track/", {"code": code, "secret": secret}, **extra)


def opened(client: Client, case: Any, secret: str = PHONE) -> Client:
    """``client`` after proving access to ``case`` on the tracking form."""
    response = track(client, case.query_code, secret)
    assert response.status_code == 303, response.content.decode()[:500]
    return client


def normalised(html: str) -> str:
    """A page with what differs per request taken out: the CSRF token (masked anew on every
    render)."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "CSRF", html)


@pytest.fixture
def rates(settings: Any) -> Any:
    """Rate limits raised for tests that make many requests (each test sets what it checks)."""
    settings.XINFANG_RATES = dict(settings.XINFANG_RATES) | {
        "portal_track_ip": "1000/10m",
        "portal_track_code": "1000/1h",
        "portal_act_ip": "1000/1h",
    }
    return settings
