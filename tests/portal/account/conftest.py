"""Citizen account tests: the text messages land in ``accounts.outbox``; rates are generous
unless a test sets its own."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.conftest import World, registration
from xinfang.cases.models import Case
from xinfang.cases.registration import case_register_online
from xinfang.portal import accounts
from xinfang.portal import services as P
from xinfang.portal.models import PortalAccount, PortalSubmission

PHONE = "13812345678"  # the phone of tests.conftest.registration()'s 张三
OTHER_PHONE = "13900001111"
PASSWORD = "Spring-river-58"
NEW_PASSWORD = "Autumn-lake-77"


@pytest.fixture
def sms(monkeypatch: Any) -> list[tuple[str, str]]:
    sent: list[tuple[str, str]] = []
    monkeypatch.setattr(accounts, "outbox", sent)
    return sent


@pytest.fixture(autouse=True)
def rates(settings: Any) -> Any:
    """Generous limits: the tests of the limits set their own."""
    settings.XINFANG_RATES = {name: "1000/1h" for name in settings.XINFANG_RATES}
    return settings


def last_code(sent: list[tuple[str, str]], phone: str = PHONE) -> str:
    for to, text in reversed(sent):
        if to == phone:
            found = re.search(r"\d{6}", text)
            assert found, text
            return found.group()
    raise AssertionError(f"no message to {phone}")


def ask_code(client: Client, phone: str = PHONE, url: str = "/portal/register/") -> Any:
    return client.post(url, {"step": "send", "phone": phone})


def verify(
    client: Client,
    code: str,
    phone: str = PHONE,
    password: str = PASSWORD,
    url: str = "/portal/register/",
    **extra: str,
) -> Any:
    data = {"step": "verify", "phone": phone, "code": code, "password": password}
    data["password2"] = extra.pop("password2", password)
    return client.post(url, data | extra)


def sign_up(client: Client, sent: list[tuple[str, str]], phone: str = PHONE, **extra: str) -> Any:
    """Register through the pages; the client is logged in afterwards."""
    assert ask_code(client, phone).status_code == 200
    response = verify(client, last_code(sent, phone), phone, **extra)
    assert response.status_code == 302, response.content.decode()[:2000]
    return PortalAccount.objects.get(pk=client.session[P.SESSION_ACCOUNT]["id"])


def make_account(phone: str = PHONE, password: str = PASSWORD, name: str = "") -> PortalAccount:
    """An account written directly (no code step)."""
    from django.contrib.auth.hashers import make_password

    from xinfang.core.crypto import encrypt
    from xinfang.portal.models import PHONE_CONTEXT

    return PortalAccount.objects.create(
        phone_enc=encrypt(phone, context=PHONE_CONTEXT),
        phone_bidx=accounts.phone_index(phone),
        password=make_password(password),
        name=name,
        created_at=timezone.now(),
    )


def login(client: Client, phone: str = PHONE, password: str = PASSWORD, **extra: str) -> Any:
    return client.post("/portal/login/", {"phone": phone, "password": password} | extra)


def online_case(world: World, key: str, account: PortalAccount | None = None, **kw: Any) -> Case:
    """A case submitted on the portal (by ``account`` if given)."""
    case = case_register_online(
        by=P.portal_user(),
        office=P.portal_office(),
        reg=registration(channel="online", **kw),
        idempotency_key=key,
    )
    PortalSubmission.objects.create(
        case=case, account=account, submitted_at=timezone.now(), consent_version="2026-11"
    )
    return case
