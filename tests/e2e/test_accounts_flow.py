"""Accounts in a real browser: the lockout page, and an admin's forced TOTP setup."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _try(page: Any, live_server: Any, username: str, password: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def test_lockout_after_five_bad_passwords(page, live_server, world, shot, settings):
    settings.AXES_ENABLED = True
    for i in range(4):
        _try(page, live_server, "alice", f"wrong-{i}")
        page.wait_for_selector("text=用户名或密码不正确")
    shot("01-wrong-password")
    _try(page, live_server, "alice", "wrong-5")
    page.wait_for_selector("#lockout-message")
    assert "登录失败次数过多" in page.inner_text("#lockout-message")
    _try(page, live_server, "alice", "Xf-test-pass-1")
    page.wait_for_selector("#lockout-message")
    assert page.url.endswith("/login/")
    shot("02-locked")


def test_admin_is_forced_through_totp_setup(page, live_server, world, shot, settings):
    settings.ACCOUNTS_OTP_ENFORCED = True
    _try(page, live_server, "sam", "Xf-test-pass-1")
    page.wait_for_url(re.compile(r"/account/otp/setup/"))
    assert page.locator("#otp-qr svg").count() == 1
    secret = page.inner_text("#otp-secret")
    assert len(secret.replace(" ", "")) >= 16
    shot("01-setup")
    page.goto(f"{live_server.url}/cases/")  # nothing else until done
    page.wait_for_url(re.compile(r"/account/otp/setup/"))
    device = TOTPDevice.objects.get(user=world.sam, confirmed=False)
    code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
    page.fill("input[name=token]", f"{code:06d}")
    page.click("button.primary")
    page.wait_for_selector("#recovery-codes")
    assert page.locator("#recovery-codes li").count() == 10
    shot("02-recovery-codes")
    page.click("#continue")  # back where the person was going
    page.wait_for_url(f"{live_server.url}/cases/")
    page.goto(f"{live_server.url}/admin/")
    page.wait_for_selector("text=系统管理")
    shot("03-admin")
