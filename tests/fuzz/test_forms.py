"""Hypothesis against the staff forms: whatever is posted, the answer is never a 5xx.

Each test sends the real form's field names with generated values — any Unicode (astral
planes, controls, lone surrogates are impossible in HTTP so excluded), overlong strings,
numbers where text is expected and the reverse, missing and duplicated management-form
counts — through the Django test client as a logged-in clerk, and checks the status only:
a 200 with the form's errors, a redirect, a 4xx are all fine; 500 is the bug.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import World, register_form

EXAMPLES = int(os.environ.get("XINFANG_FUZZ_EXAMPLES", "20"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=list(HealthCheck),
)

# Text as people and attackers type it: CJK incl. extension B, emoji, controls, markup.
TEXT = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"]), max_size=400),
    st.sampled_from(
        [
            "",
            " ",
            "<script>alert(1)</script>",
            "𠀀𪚥𰻞",
            "👨‍👩‍👧",
            "\x00\x07\x1b[31m",
            "' OR 1=1 --",
            "1" * 5000,
            "-1",
            "9" * 30,
            "2026-02-30",
            "0000-00-00T99:99",
            "null",
        ]
    ),
)

REGISTER_FIELDS = [
    "channel",
    "purpose",
    "category",
    "received_at",
    "headcount",
    "group_name",
    "place_code",
    "place_name",
    "summary",
    "content",
    "skip_level",
    "p-TOTAL_FORMS",
    "p-INITIAL_FORMS",
    "p-0-name",
    "p-0-id_type",
    "p-0-id_number",
    "p-0-phone",
    "p-0-address",
    "p-0-sex",
    "p-0-occupation",
    "r-TOTAL_FORMS",
    "r-0-name",
    "r-0-id_number",
]

LIST_PARAMS = [
    "q",
    "status",
    "channel",
    "purpose",
    "unit",
    "category",
    "place",
    "date_from",
    "date_to",
    "deadline",
    "flag",
    "page",
    "sort",
]

ACTION_FIELDS = [
    "unit",
    "reason",
    "text",
    "notice_text",
    "days",
    "approve",
    "served_on",
    "method",
    "evaluation",
    "note",
    "decision",
    "comment",
    "idempotency_key",
]


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
@FUZZ
@given(overrides=st.dictionaries(st.sampled_from(REGISTER_FIELDS), TEXT, max_size=8))
def test_registration_form_never_500(world_once: World, overrides: dict[str, str]) -> None:
    data = register_form(uuid.uuid4().hex, **overrides)
    response = _client(world_once.rita).post("/cases/new/", data)
    assert response.status_code < 500, response.content[:500]
    htmx = _client(world_once.rita).post("/cases/new/", data, headers={"HX-Request": "true"})
    assert htmx.status_code < 500, htmx.content[:500]


@pytest.mark.django_db
@FUZZ
@given(params=st.dictionaries(st.sampled_from(LIST_PARAMS), TEXT, max_size=6))
def test_case_list_filters_never_500(world_once: World, params: dict[str, str]) -> None:
    response = _client(world_once.alice).get("/cases/", params)
    assert response.status_code < 500, response.content[:500]


@pytest.mark.django_db
@FUZZ
@given(
    code=st.sampled_from(
        [
            "assign",
            "forward",
            "inform",
            "sign_in",
            "accept",
            "refuse",
            "return",
            "request_extension",
            "decide_extension",
            "reply",
            "evaluate",
            "close",
            "request_review",
            "decide_review",
            "note",
            "nonsense",
        ]
    ),
    data=st.dictionaries(st.sampled_from(ACTION_FIELDS), TEXT, max_size=6),
    htmx=st.booleans(),
)
def test_case_actions_never_500(
    world_once: World, fuzz_case: int, code: str, data: dict[str, str], htmx: bool
) -> None:
    headers = {"HX-Request": "true"} if htmx else {}
    client = _client(world_once.alice)
    response = client.post(f"/cases/{fuzz_case}/act/{code}/", data, headers=headers)
    assert response.status_code < 500, response.content[:500]
    note = client.post(f"/cases/{fuzz_case}/note/", data, headers=headers)
    assert note.status_code < 500, note.content[:500]


@pytest.mark.django_db
@FUZZ
@given(username=TEXT, password=TEXT)
def test_login_form_never_500(db: Any, username: str, password: str) -> None:
    response = Client().post("/login/", {"username": username, "password": password})
    assert response.status_code < 500, response.content[:500]
