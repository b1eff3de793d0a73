"""Schemathesis against the OpenAPI schema: no input makes the API answer 5xx.

Every operation in ``/api/openapi.json`` gets generated requests (valid and invalid bodies,
odd query strings, random path ids — half of the case ids replaced by a real case so the
action bodies reach the services). The only check is ``not_a_server_error``: 4xx answers
with a Chinese message are the expected outcome for garbage. ``XINFANG_FUZZ_EXAMPLES``
raises the number of examples per operation (default 20 keeps the suite fast); CI runs
derandomised so a failure reproduces.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from tests.api.conftest import registration_body
from tests.conftest import World
from xinfang.api.api import api
from xinfang.org.models import ApiToken
from xinfang.wsgi import application

EXAMPLES = int(os.environ.get("XINFANG_FUZZ_EXAMPLES", "20"))


# The schema is built in-process (no request, no database); requests go to the WSGI app.
schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
schema.app = application


@pytest.fixture
def fuzz_context(world: World, settings: Any, tmp_path: Any) -> Iterator[dict[str, Any]]:
    """A token for the office clerk and one real case the generated requests can hit."""
    settings.MEDIA_ROOT = tmp_path
    _, raw = ApiToken.issue(user=world.alice, name="fuzz")
    client = Client(headers={"Authorization": f"Bearer {raw}"})
    created = client.post(
        "/api/cases", data=json.dumps(registration_body(world)), content_type="application/json"
    )
    assert created.status_code == 201, created.content
    # Generated requests go straight to the WSGI app, not through Django's test client, so
    # the request signals would close the test's connection (and its transaction) on
    # PostgreSQL; the test client detaches the same receiver around each of its requests
    # (and re-attaches it, hence after the setup request above).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield {"token": raw, "case_id": created.json()["id"]}
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=list(HealthCheck),
)
def test_no_server_error(case: Any, fuzz_context: dict[str, Any]) -> None:
    if "case_id" in (case.path_parameters or {}) and hash(repr(case.body)) % 2 == 0:
        case.path_parameters["case_id"] = fuzz_context["case_id"]
    case.call_and_validate(
        headers={"Authorization": f"Bearer {fuzz_context['token']}"},
        checks=[not_a_server_error],
    )


def test_nul_and_controls_in_query_strings_are_not_a_server_error(world: World) -> None:
    """Found by this fuzzer on PostgreSQL (it refuses NUL in a string literal): a NUL in the
    list's search box or the person lookup was a 500."""
    _, raw = ApiToken.issue(user=world.alice, name="nul")
    client = Client(headers={"Authorization": f"Bearer {raw}"})
    for path, params in (
        ("/api/cases", {"q": "im\x00", "place": "\x05L\x00"}),
        ("/api/petitioners/lookup", {"q": "张\x00三"}),
        ("/api/cases/export.csv", {"q": "\x00"}),
    ):
        response = client.get(path, params)
        assert response.status_code < 500, (path, response.content[:300])
