"""Accounts tests switch lockout and the TOTP mandate back on (tests/conftest.py turns them off
for everyone else)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.conftest import World, make_user
from xinfang.org import roles as R

PASSWORD = "Xf-test-pass-1"


@pytest.fixture
def axes_on(settings: Any) -> Any:
    settings.AXES_ENABLED = True
    return settings


@pytest.fixture
def otp_on(settings: Any) -> Any:
    settings.ACCOUNTS_OTP_ENFORCED = True
    # django-otp's growing delay after a wrong code is tested on its own (test_otp_throttle).
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0
    return settings


@pytest.fixture
def admins(world: World) -> dict[str, Any]:
    return {
        "sam": world.sam,
        "sec": make_user("sec", world.district, R.SECADMIN, "安全员"),
        "aud": make_user("aud", world.district, R.AUDITOR, "审计员"),
    }


def password_login(client: Client, username: str, password: str = PASSWORD, **extra: Any) -> Any:
    return client.post("/login/", {"username": username, "password": password}, **extra)


def totp_code(device: Any, ahead: int = 0) -> str:
    from django_otp.oath import totp

    return (
        f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift + ahead):06d}"
    )
