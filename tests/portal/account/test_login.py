"""登录/退出, rate limits, ?next=, the staff login untouched, 修改密码."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.hashers import check_password
from django.test import Client

from tests.conftest import World
from tests.portal.account.conftest import (
    NEW_PASSWORD,
    PASSWORD,
    PHONE,
    ask_code,
    login,
    make_account,
)
from xinfang.portal import accounts
from xinfang.portal import services as P
from xinfang.portal.models import PhoneChallenge, PortalAccount

pytestmark = pytest.mark.django_db


def _error_text(response: Any) -> str:
    return response.content.decode()


def test_login_and_logout(client: Client) -> None:
    account = make_account()
    page = client.get("/portal/login/")
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    before = client.session.session_key
    done = login(client, phone="138 1234 5678")
    assert done.status_code == 302 and done["Location"] == "/portal/account/"
    assert client.session[P.SESSION_ACCOUNT] == {"id": account.pk, "epoch": 0}
    assert client.session.session_key != before  # a new session key: no fixation
    account.refresh_from_db()
    assert account.last_login_at is not None
    assert client.get("/portal/login/")["Location"] == "/portal/account/"  # already in

    session = client.session
    session[P.SESSION_CASES] = {"1": 2**40}  # a case opened in this browser
    session.save()
    assert client.get("/portal/logout/").status_code == 302  # GET never logs out
    assert P.SESSION_ACCOUNT in client.session
    key = client.session.session_key
    out = client.post("/portal/logout/")
    assert out.status_code == 302 and out["Location"] == "/portal/"
    assert P.SESSION_ACCOUNT not in client.session and P.SESSION_CASES not in client.session
    assert client.session.session_key != key
    gone = client.get("/portal/account/")
    assert (
        gone.status_code == 302 and gone["Location"] == "/portal/login/?next=%2Fportal%2Faccount%2F"
    )


def test_wrong_password_and_unknown_phone_read_the_same() -> None:
    make_account()
    wrong = login(Client(), password="Wrong-pass-99")
    unknown = login(Client(), phone="13900001111", password="Wrong-pass-99")
    assert wrong.status_code == unknown.status_code == 200
    for response in (wrong, unknown):
        html = response.content.decode()
        assert accounts.LOGIN_FAILED in html and 'role="alert"' in html
        assert "Wrong-pass-99" not in html  # a password is never sent back
    inactive = make_account("13700002222")
    PortalAccount.objects.filter(pk=inactive.pk).update(is_active=False)
    assert accounts.LOGIN_FAILED in login(Client(), phone="13700002222").content.decode()


def test_login_keeps_the_typed_phone_and_explains_a_bad_one() -> None:
    response = login(Client(), phone="010-1234567", password="x")
    html = response.content.decode()
    assert "只能使用手机号码" in html and 'value="010-1234567"' in html
    assert 'aria-invalid="true"' in html


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/portal/cases/5/", "/portal/cases/5/"),
        ("/portal/account/?status=open", "/portal/account/?status=open"),
        ("https://evil.example/portal/", "/portal/account/"),
        ("//evil.example/portal/", "/portal/account/"),
        ("/\\evil.example", "/portal/account/"),
        ("/portal/../admin/", "/portal/account/"),
        ("/admin/", "/portal/account/"),
        ("/portal/\\\\evil.example", "/portal/account/"),
        ("javascript:alert(1)", "/portal/account/"),
        ("/portal/logout/", "/portal/account/"),
    ],
)
def test_next_only_goes_to_portal_pages(target: str, expected: str) -> None:
    make_account()
    client = Client()
    page = client.get("/portal/login/", {"next": target})
    if expected != "/portal/account/":
        assert f'value="{expected}"' in page.content.decode()
    response = login(client, next=target)
    assert response.status_code == 302 and response["Location"] == expected


def test_login_required_page_comes_back_after_login() -> None:
    make_account()
    client = Client()
    gone = client.get("/portal/account/?status=closed")
    assert gone["Location"] == "/portal/login/?next=%2Fportal%2Faccount%2F%3Fstatus%3Dclosed"
    page = client.get(gone["Location"])
    assert 'name="next" value="/portal/account/?status=closed"' in page.content.decode()
    assert login(client, next="/portal/account/?status=closed")["Location"] == (
        "/portal/account/?status=closed"
    )


def test_the_staff_login_is_untouched(world: World) -> None:
    account = make_account()
    client = Client()
    login(client)
    response = client.get("/portal/account/")
    assert response.wsgi_request.user.is_anonymous  # no auth.User for a citizen
    assert "_auth_user_id" not in client.session
    # a staff member logged in on the same browser stays themselves, and vice versa
    staff = Client()
    staff.login(username="alice", password="Xf-test-pass-1")
    assert login(staff).status_code == 302
    assert staff.session["_auth_user_id"] == str(world.alice.pk)
    assert staff.session[P.SESSION_ACCOUNT]["id"] == account.pk
    staff.post("/portal/logout/")
    assert staff.session["_auth_user_id"] == str(world.alice.pk)
    assert staff.get("/cases/").status_code == 200
    # the citizen's credentials open nothing on the staff side
    assert not Client().login(username=PHONE, password=PASSWORD)


def test_change_password_keeps_this_session_and_ends_the_others(client: Client) -> None:
    account = make_account()
    other = Client()
    login(other)
    login(client)
    wrong = client.post(
        "/portal/account/",
        {
            "old_password": "nope-nope-1",
            "new_password": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    html = wrong.content.decode()
    assert wrong.status_code == 200 and "原密码不正确" in html
    assert 'aria-describedby="id_old_password-error"' in html
    weak = client.post(
        "/portal/account/",
        {"old_password": PASSWORD, "new_password": "87654321", "new_password2": "87654321"},
    )
    assert "数字" in weak.content.decode()
    done = client.post(
        "/portal/account/",
        {"old_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert done.status_code == 302
    account.refresh_from_db()
    assert account.session_epoch == 1 and check_password(NEW_PASSWORD, account.password)
    page = client.get("/portal/account/")
    assert page.status_code == 200 and "密码已修改" in page.content.decode()
    assert other.get("/portal/account/").status_code == 302


# --- rate limits -----------------------------------------------------------------------------


def test_login_rate_limit_per_phone(settings: Any) -> None:
    settings.XINFANG_RATES = settings.XINFANG_RATES | {"portal_login_phone": "3/1h"}
    make_account()
    for i in range(3):
        assert login(Client(REMOTE_ADDR=f"10.0.0.{i}"), password="bad-pass-x").status_code == 200
    blocked = login(Client(REMOTE_ADDR="10.0.0.9"))  # even the right password
    assert blocked.status_code == 429 and int(blocked["Retry-After"]) > 0
    assert "操作过于频繁" in blocked.content.decode()
    assert P.SESSION_ACCOUNT not in Client().session
    assert login(Client(), phone="13900001111", password="x").status_code == 200  # other phone


def test_login_rate_limit_per_address(settings: Any) -> None:
    settings.XINFANG_RATES = settings.XINFANG_RATES | {"portal_login_ip": "2/10m"}
    make_account()
    client = Client(REMOTE_ADDR="10.1.1.1")
    login(client, phone="13900000001", password="x")
    login(client, phone="13900000002", password="x")
    blocked = login(client)
    assert blocked.status_code == 429 and "分钟后再试" in blocked.content.decode()
    assert login(Client(REMOTE_ADDR="10.1.1.2")).status_code == 302


def test_code_rate_limits(settings: Any, sms: list) -> None:
    settings.XINFANG_RATES = settings.XINFANG_RATES | {
        "portal_sms_phone": "2/1h",
        "portal_sms_ip": "3/1h",
    }
    for i in range(2):
        assert ask_code(Client(REMOTE_ADDR=f"10.2.0.{i}")).status_code == 200
    blocked = ask_code(Client(REMOTE_ADDR="10.2.0.9"))
    assert blocked.status_code == 429 and "Retry-After" in blocked
    assert "操作过于频繁" in blocked.content.decode()
    assert len(sms) == 2 and PhoneChallenge.objects.count() == 2
    # per address, whatever the phone
    client = Client(REMOTE_ADDR="10.3.0.1")
    for phone in ("13900000001", "13900000002", "13900000003"):
        assert ask_code(client, phone, url="/portal/reset/").status_code == 200
    assert ask_code(client, "13900000004").status_code == 429


def test_registered_and_free_phones_share_the_code_limit(settings: Any, sms: list) -> None:
    settings.XINFANG_RATES = settings.XINFANG_RATES | {"portal_sms_phone": "1/1h"}
    make_account("13900001111")
    assert ask_code(Client(), "13900001111").status_code == 200
    assert ask_code(Client(), PHONE).status_code == 200
    assert ask_code(Client(), "13900001111").status_code == 429
    assert ask_code(Client(), PHONE).status_code == 429
