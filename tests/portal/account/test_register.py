"""注册 and 找回密码: the code step, its limits, and no answer that tells whether a phone has
an account."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.contrib.auth.hashers import check_password
from django.test import Client
from django.utils import timezone

from tests.portal.account.conftest import (
    NEW_PASSWORD,
    PASSWORD,
    PHONE,
    ask_code,
    last_code,
    login,
    make_account,
    sign_up,
    verify,
)
from xinfang.core.crypto import decrypt
from xinfang.core.errors import DomainError
from xinfang.portal import accounts
from xinfang.portal import services as P
from xinfang.portal.models import PHONE_CONTEXT, PhoneChallenge, PortalAccount

pytestmark = pytest.mark.django_db
OTHER = "13900001111"


def _page(response: Any) -> str:
    """The page without what differs on every render (CSRF tokens)."""
    html = response.content.decode()
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


# --- registration ---------------------------------------------------------------------------


def test_register_with_the_code_opens_an_account_and_logs_in(client: Client, sms: list) -> None:
    page = client.get("/portal/register/")
    assert page.status_code == 200 and "第1步" in page.content.decode()
    assert page["Cache-Control"] == "no-store"
    sent = ask_code(client, " 138-1234-5678 ")  # any spelling
    html = sent.content.decode()
    assert "验证码已发送（如该号码可用）" in html and "138****5678" in html
    assert PHONE not in html.replace(f'value="{PHONE}"', "")  # only in the hidden field
    assert len(sms) == 1 and sms[0][0] == PHONE and "用于注册" in sms[0][1]
    challenge = PhoneChallenge.objects.get()
    assert challenge.purpose == "register" and challenge.attempts == 0
    assert challenge.phone_bidx == accounts.phone_index(PHONE)
    code = last_code(sms)
    assert code not in challenge.code_hash and check_password(code, challenge.code_hash)
    assert challenge.expires_at - challenge.created_at == dt.timedelta(minutes=10)

    done = verify(client, code, name="王女士")
    assert done.status_code == 302 and done["Location"] == "/portal/account/"
    account = PortalAccount.objects.get()
    assert account.name == "王女士" and account.is_active and account.session_epoch == 0
    assert decrypt(account.phone_enc, context=PHONE_CONTEXT) == PHONE
    assert PHONE not in account.phone_enc and check_password(PASSWORD, account.password)
    assert client.session[P.SESSION_ACCOUNT] == {"id": account.pk, "epoch": 0}
    assert PhoneChallenge.objects.get().used_at is not None
    page = client.get("/portal/account/")
    assert page.status_code == 200 and "注册成功" in page.content.decode()
    # the code opened one registration: used again it is spent
    client.post("/portal/logout/")
    again = verify(Client(), code, password="Another-pass-9")
    assert again.status_code == 200 and accounts.CODE_INVALID in again.content.decode()


def test_step_errors_keep_what_was_typed(client: Client, sms: list) -> None:
    bad = ask_code(client, "010-12345678")
    html = bad.content.decode()
    assert "只能使用手机号码" in html and 'value="010-12345678"' in html
    assert 'aria-invalid="true"' in html and 'aria-describedby="id_phone-error"' in html
    assert not sms and not PhoneChallenge.objects.exists()
    short = ask_code(client, "1381234")
    assert "手机号应为11位" in short.content.decode()

    ask_code(client)
    weak = verify(client, last_code(sms), password="12345678", name="老王")
    html = weak.content.decode()
    assert weak.status_code == 200 and "第2步" in html
    assert 'id="id_password-error"' in html and 'value="老王"' in html
    assert PhoneChallenge.objects.get().attempts == 0  # a password error costs no try
    assert not PortalAccount.objects.exists()
    mismatch = verify(client, last_code(sms), password2="Spring-river-59")
    assert "两次输入的密码不一致" in mismatch.content.decode()
    with_phone = verify(client, last_code(sms), password=f"ab{PHONE}")
    assert "不能包含手机号码" in with_phone.content.decode()
    assert verify(client, last_code(sms)).status_code == 302


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Ab1!x", "密码太短"),
        ("1234567890", "数字"),
        ("password", "常见"),
        ("Woaini520", "常见密码"),
        ("x" * 129, "最多128"),
    ],
)
def test_citizen_password_rules(password: str, message: str) -> None:
    with pytest.raises(DomainError) as err:
        accounts.check_new_password(password, phone=PHONE)
    assert message in err.value.message and err.value.field == "password"


def test_citizen_password_does_not_need_three_character_classes() -> None:
    accounts.check_new_password("minsheng wangluo", phone=PHONE)  # staff would be refused
    accounts.check_new_password(PASSWORD, phone=PHONE)


def test_wrong_code_five_times_uses_it_up(client: Client, sms: list) -> None:
    ask_code(client)
    code = last_code(sms)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for left in (4, 3, 2, 1):
        response = verify(client, wrong)
        assert f"验证码不正确，还可以再试{left}次" in response.content.decode()
    fifth = verify(client, wrong)
    assert accounts.CODE_EXHAUSTED in fifth.content.decode()
    right = verify(client, code)  # even the right code: used up
    assert right.status_code == 200 and accounts.CODE_EXHAUSTED in right.content.decode()
    assert PhoneChallenge.objects.get().attempts == 5
    assert not PortalAccount.objects.exists()
    # a new code works
    ask_code(client)
    assert verify(client, last_code(sms)).status_code == 302


def test_expired_code_is_refused(client: Client, sms: list) -> None:
    ask_code(client)
    PhoneChallenge.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    response = verify(client, last_code(sms))
    assert response.status_code == 200 and accounts.CODE_INVALID in response.content.decode()
    assert not PortalAccount.objects.exists()


def test_only_the_newest_code_counts(client: Client, sms: list) -> None:
    ask_code(client)
    first = last_code(sms)
    ask_code(client)
    second = last_code(sms)
    if first != second:
        assert "验证码" in verify(client, first).content.decode()
        assert not PortalAccount.objects.exists()
    assert verify(client, second).status_code == 302


def test_code_is_six_digits(client: Client, sms: list) -> None:
    ask_code(client)
    response = verify(client, "12ab")
    assert "请填写短信中的6位数字验证码" in response.content.decode()
    assert PhoneChallenge.objects.get().attempts == 0


def test_registered_phone_gets_the_same_page_and_no_code(sms: list) -> None:
    make_account(OTHER)
    fresh = ask_code(Client(), PHONE)
    taken = ask_code(Client(), OTHER)
    assert fresh.status_code == taken.status_code == 200
    assert _page(fresh).replace(PHONE, "X").replace("138****5678", "M") == _page(taken).replace(
        OTHER, "X"
    ).replace("139****1111", "M")
    # both have a challenge (a wrong code reads the same), only the text differs
    assert PhoneChallenge.objects.count() == 2
    (to_taken,) = [text for to, text in sms if to == OTHER]
    assert "已注册" in to_taken and "找回密码" in to_taken and not re.search(r"\d{6}", to_taken)
    wrong_fresh = verify(Client(), "000000", PHONE)
    wrong_taken = verify(Client(), "000000", OTHER)
    expected = "验证码不正确，还可以再试4次"
    fresh_html, taken_html = _page(wrong_fresh), _page(wrong_taken)
    if expected in fresh_html:  # unless 000000 happened to be the code sent
        assert expected in taken_html
        assert fresh_html.replace("138****5678", "M").replace(PHONE, "X") == taken_html.replace(
            "139****1111", "M"
        ).replace(OTHER, "X")


def test_registration_race_on_the_same_phone(sms: list) -> None:
    """Proved code, but an account appeared meanwhile (two tabs): "已注册，请登录"."""
    client = Client()
    ask_code(client)
    code = last_code(sms)
    make_account(PHONE, password="Other-pass-77")
    response = verify(client, code)
    html = response.content.decode()
    assert response.status_code == 200 and "该手机号码已注册账号" in html
    assert "/portal/login/" in html and "/portal/reset/" in html
    assert PortalAccount.objects.count() == 1


def test_integrity_error_is_already_registered(sms: list, monkeypatch: Any) -> None:
    ask_code(Client())
    code = last_code(sms)
    make_account(PHONE)
    monkeypatch.setattr(accounts, "account_by_phone", lambda phone: None)  # the race window
    with pytest.raises(accounts.AlreadyRegistered):
        accounts.account_register(phone=PHONE, code=code, password=PASSWORD)


def test_tampered_hidden_phone_starts_again(client: Client, sms: list) -> None:
    ask_code(client)
    response = verify(client, last_code(sms), phone="not-a-phone")
    assert "第1步" in response.content.decode()


# --- password reset ----------------------------------------------------------------------------


def test_reset_password_ends_other_sessions(sms: list) -> None:
    other_device = Client()
    sign_up(other_device, sms)
    account = PortalAccount.objects.get()
    assert other_device.get("/portal/account/").status_code == 200

    here = Client()
    page = here.get("/portal/reset/")
    assert page.status_code == 200 and "找回密码" in page.content.decode()
    sent = ask_code(here, url="/portal/reset/")
    assert "验证码已发送（如该号码已注册账号）" in sent.content.decode()
    assert "重设" in sms[-1][1]
    done = verify(here, last_code(sms), password=NEW_PASSWORD, url="/portal/reset/")
    assert done.status_code == 302 and done["Location"] == "/portal/account/"
    account.refresh_from_db()
    assert account.session_epoch == 1 and check_password(NEW_PASSWORD, account.password)
    assert here.get("/portal/account/").status_code == 200  # logged in here
    gone = other_device.get("/portal/account/")  # the other session ended
    assert gone.status_code == 302 and gone["Location"].startswith("/portal/login/")
    assert login(Client(), password=PASSWORD).status_code == 200  # old password refused
    assert login(Client(), password=NEW_PASSWORD).status_code == 302


def test_reset_of_an_unknown_phone_looks_the_same_and_sends_nothing(sms: list) -> None:
    make_account(PHONE)
    known = ask_code(Client(), PHONE, url="/portal/reset/")
    unknown = ask_code(Client(), "13900001111", url="/portal/reset/")
    assert _page(known).replace(PHONE, "X").replace("138****5678", "M") == _page(unknown).replace(
        "13900001111", "X"
    ).replace("139****1111", "M")
    assert [to for to, _ in sms] == [PHONE]
    assert PhoneChallenge.objects.filter(purpose="reset").count() == 2
    # a guessed code for the unknown phone opens nothing
    challenge = PhoneChallenge.objects.get(phone_bidx=accounts.phone_index("13900001111"))
    from django.contrib.auth.hashers import make_password

    PhoneChallenge.objects.filter(pk=challenge.pk).update(code_hash=make_password("123456"))
    with pytest.raises(DomainError, match="验证码已失效"):
        accounts.account_reset_password(phone="13900001111", code="123456", password=PASSWORD)
    assert PortalAccount.objects.count() == 1


def test_register_codes_do_not_reset(sms: list) -> None:
    make_account(PHONE)
    client = Client()
    ask_code(client, url="/portal/register/")  # "already registered" text, no code
    response = verify(client, "123456", password=NEW_PASSWORD, url="/portal/reset/")
    assert accounts.CODE_INVALID in response.content.decode()


def test_old_challenges_are_deleted(sms: list) -> None:
    ask_code(Client())
    PhoneChallenge.objects.update(expires_at=timezone.now() - dt.timedelta(days=2))
    ask_code(Client())
    assert PhoneChallenge.objects.count() == 1  # only the new one


def test_logged_in_register_goes_to_the_list(client: Client, sms: list) -> None:
    sign_up(client, sms)
    assert client.get("/portal/register/")["Location"] == "/portal/account/"


def test_console_backend_logs_the_text_with_phone_and_code_masked(
    settings: Any, caplog: Any, sms: list
) -> None:
    settings.XINFANG_MESSAGE_BACKEND = "console"
    with caplog.at_level("INFO", logger="xinfang.notify.messages"):
        ask_code(Client())
    (record,) = [r for r in caplog.records if r.name == "xinfang.notify.messages"]
    assert "138****5678" in record.getMessage() and PHONE not in record.getMessage()
    # the code itself never goes into a log: whoever reads logs could take the account
    assert last_code(sms) not in record.getMessage() and "******" in record.getMessage()
    settings.XINFANG_MESSAGE_BACKEND = "database"
    caplog.clear()
    with caplog.at_level("INFO", logger="xinfang.notify.messages"):
        ask_code(Client())
    assert "未配置短信网关" in caplog.text and last_code(sms) not in caplog.text
