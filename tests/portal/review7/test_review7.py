"""Regression tests of the issue-7 security review (each names the defect it pins)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from tests.portal.submit.conftest import PHONE, form_data
from xinfang.cases.models import Case
from xinfang.core.ratelimit import client_ip
from xinfang.portal import services

J = "application/json"


def _token(response: Any) -> str:
    assert response.status_code == 303, response.content.decode()[:800]
    match = re.search(r"/portal/submit/([^/]+)/$", response["Location"])
    assert match
    return match.group(1)


# --- NUL bytes in a pending token or an API client token: 404/normal answer, never a 500 ----


@pytest.mark.parametrize(
    "url",
    ["/portal/submit/%00abc/", "/portal/submit/%00abc/done/", "/portal/submit/?edit=%00"],
)
def test_nul_in_pending_token_is_not_a_server_error(world: Any, url: str) -> None:
    response = Client(raise_request_exception=False).get(url)
    assert response.status_code in (200, 404)


def test_nul_in_edit_field_of_the_form_is_not_a_server_error(world: Any) -> None:
    response = Client(raise_request_exception=False).post(
        "/portal/submit/", form_data(edit="ab\x00cd")
    )
    assert response.status_code == 303


def test_nul_in_api_client_token_is_not_a_server_error(world: Any) -> None:
    from tests.conftest import VALID_ID

    body = {
        "client_token": "abc\x00defghij",
        "name": "张三",
        "id_number": VALID_ID,
        "phone": PHONE,
        "purpose": "appeal",
        "summary": "反映物业费问题",
        "content": "物业费上涨，请求处理。",
        "consent": True,
    }
    c = Client(raise_request_exception=False)
    first = c.post("/api/portal/submissions", json.dumps(body), content_type=J)
    assert first.status_code == 201, first.content.decode()[:500]
    again = c.post("/api/portal/submissions", json.dumps(body), content_type=J)
    assert again.status_code == 200  # still idempotent
    assert Case.objects.count() == 1


# --- client address: a client cannot choose its address with X-Forwarded-For --------------


def test_forwarded_for_counts_the_address_the_proxy_appended(settings: Any) -> None:
    settings.XINFANG_CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    rf = RequestFactory()
    spoofed = rf.get("/", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9")
    other = rf.get("/", HTTP_X_FORWARDED_FOR="5.6.7.8, 203.0.113.9")
    assert client_ip(spoofed) == client_ip(other) == "203.0.113.9"


def test_ipv6_counts_per_64_network(settings: Any) -> None:
    settings.XINFANG_CLIENT_IP_HEADER = ""
    rf = RequestFactory()
    a = rf.get("/", REMOTE_ADDR="2001:db8:1:2::1")
    b = rf.get("/", REMOTE_ADDR="2001:db8:1:2:ffff::99")
    assert client_ip(a) == client_ip(b) == "2001:db8:1:2::/64"
    assert client_ip(rf.get("/", REMOTE_ADDR="::ffff:198.51.100.7")) == "198.51.100.7"
    assert client_ip(rf.get("/", REMOTE_ADDR="198.51.100.7")) == "198.51.100.7"


def test_spoofed_forwarded_for_does_not_escape_the_tracking_limit(
    settings: Any, world: Any
) -> None:
    settings.XINFANG_CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    settings.XINFANG_RATES = dict(settings.XINFANG_RATES) | {"portal_track_ip": "2/10m"}
    c = Client()
    codes = []
    for i in range(3):
        r = c.post(
            "/portal/track/",
            {"code": f"ABCDEFG{i + 2}", "secret": PHONE},
            HTTP_X_FORWARDED_FOR=f"10.0.0.{i}, 203.0.113.9",
        )
        codes.append(r.status_code)
    assert codes == [200, 200, 429]


# --- verify_access: the same queries for an unknown code as for a wrong secret ------------


def test_wrong_code_and_wrong_secret_run_the_same_queries(world: Any, register: Any) -> None:
    case = register()

    def queries(code: str, secret: str) -> list[str]:
        with CaptureQueriesContext(connection) as ctx:
            assert services.verify_access(code, secret) is None
        sql = [re.sub(r"'[^']*'|-?\b\d+\b", "?", q["sql"]) for q in ctx.captured_queries]
        return [" ".join(q.split()) for q in sql]

    for secret in ("13900000000", "123456", "139000001234"):
        assert queries(case.query_code, secret) == queries("ABCDEFGH", secret)
    assert services.verify_access(case.query_code, PHONE) == case
    assert services.verify_access(case.query_code, "31002x") == case


# --- the pending submission belongs to the browser, not to one session key ----------------


def test_pending_survives_a_new_session_key(
    client: Client, world: Any, register: Any, submit_form: Any
) -> None:
    """Tracking another case (or logging in) gives the session a new key (fixation); the
    submission waiting on the review page must stay this browser's."""
    token = _token(submit_form())
    other = register()
    tracked = client.post("/portal/track/", {"code": other.query_code, "secret": PHONE})
    assert tracked.status_code == 303
    assert client.get(f"/portal/submit/{token}/").status_code == 200
    assert client.post(f"/portal/submit/{token}/").status_code == 303
    assert client.get(f"/portal/submit/{token}/done/").status_code == 200
    assert Client().get(f"/portal/submit/{token}/").status_code == 404  # still not a stranger's


def test_leaving_forgets_the_pending_submission(
    client: Client, world: Any, submit_form: Any
) -> None:
    token = _token(submit_form())
    assert client.post("/portal/leave/").status_code == 303
    assert client.get(f"/portal/submit/{token}/").status_code == 404


def test_double_click_over_the_limit_still_answers_with_the_case(
    client: Client, world: Any, submit_form: Any, monkeypatch: Any
) -> None:
    """The second click of a double click is counted while the first registers; over the
    limit it must find the first click's case, not answer 429 for a filed petition."""
    from xinfang.portal import submission as S

    token = _token(submit_form())
    real_confirm = S.pending_confirm

    def other_click_wins(ip: str, phone: str) -> None:
        monkeypatch.setattr(S, "rate_check", lambda ip, phone: None)
        real_confirm(services.session_hash(request_of[0]), token, ip=ip)  # the first click
        raise S.RateLimited(600)

    request_of: list[Any] = []
    monkeypatch.setattr(S, "rate_check", other_click_wins)
    original_hash = services.session_hash

    def capture(request: Any) -> str:
        request_of[:] = [request]
        return original_hash(request)

    monkeypatch.setattr(services, "session_hash", capture)
    response = client.post(f"/portal/submit/{token}/")
    assert response.status_code == 303 and response["Location"].endswith("/done/")
    assert Case.objects.count() == 1


def test_review_pages_are_limited_per_address(
    client: Client, world: Any, submit_form: Any, settings: Any
) -> None:
    """Every checked form stores its attachments for hours; unconfirmed ones were not
    counted at all (a script could fill the disk)."""
    from xinfang.portal.models import PendingSubmission

    settings.XINFANG_RATES = dict(settings.XINFANG_RATES) | {"portal_pending_ip": "2/1h"}
    assert submit_form().status_code == 303
    assert submit_form().status_code == 303
    third = submit_form(files={"a.pdf": b"%PDF-1.4\n%%EOF\n"})
    assert third.status_code == 429 and third["Retry-After"]
    assert "提交过于频繁" in third.content.decode()
    assert PendingSubmission.objects.count() == 2
