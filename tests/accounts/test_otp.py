"""TOTP: forced setup for admin roles, verification every session, recovery codes, admin."""

from __future__ import annotations

from django.test import Client
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.accounts.conftest import password_login, totp_code
from xinfang.audit.models import AuditEntry


def _setup_totp(client: Client, username: str) -> tuple[TOTPDevice, list[str]]:
    page = client.get("/account/otp/setup/").content.decode()
    assert "<svg" in page and 'id="otp-secret"' in page
    device = TOTPDevice.objects.get(user__username=username, confirmed=False)
    response = client.post("/account/otp/setup/", {"token": totp_code(device), "next": "/"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "只显示这一次" in body
    codes = list(
        StaticToken.objects.filter(device__user__username=username).values_list("token", flat=True)
    )
    assert len(codes) == 10 and all(c in body for c in codes)
    device.refresh_from_db()
    assert device.confirmed
    return device, codes


def test_admin_role_is_forced_to_set_up_totp(client, world, otp_on):
    response = password_login(client, "sam")
    assert response.status_code == 302
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/account/otp/setup/")
    for path in ["/cases/", "/account/", "/admin/", "/account/password/"]:
        assert client.get(path)["Location"].startswith("/account/otp/setup/"), path
    api = client.get("/api/cases")
    assert api.status_code == 401 and api.json()["code"] == "otp_setup_required"
    hx = client.get("/cases/", headers={"HX-Request": "true"})
    assert hx["HX-Redirect"].startswith("/account/otp/setup/")

    page = client.get("/account/otp/setup/").content.decode()
    assert "必须启用双因素认证" in page
    wrong = client.post("/account/otp/setup/", {"token": "000000"}).content.decode()
    assert "验证码不正确或已过期" in wrong
    assert AuditEntry.objects.filter(action="otp_failed").count() == 1
    assert client.post("/account/otp/setup/", {"token": "12ab"}).status_code == 200

    _setup_totp(client, "sam")
    assert AuditEntry.objects.filter(action="otp_setup").count() == 1
    start = client.get("/")  # no longer held at the setup page: his start page is the admin
    assert start.status_code == 302 and start["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_second_login_asks_for_the_code_and_recovery_codes_work_once(client, world, otp_on):
    password_login(client, "sam")
    device, codes = _setup_totp(client, "sam")
    client.post("/logout/")

    password_login(client, "sam")
    response = client.get("/admin/")
    assert response["Location"].startswith("/account/otp/verify/")
    page = client.post("/account/otp/verify/", {"token": "123456"}).content.decode()
    assert "验证码不正确或已过期" in page
    response = client.post(
        "/account/otp/verify/", {"token": totp_code(device, ahead=1), "next": "/admin/"}
    )
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    client.post("/logout/")

    other = Client()
    password_login(other, "sam")
    response = other.post("/account/otp/verify/", {"token": codes[0]})
    assert response.status_code == 302
    assert other.get("/admin/").status_code == 200
    assert AuditEntry.objects.filter(action="otp_recovery").count() == 1
    other.post("/logout/")
    password_login(other, "sam")
    page = other.post("/account/otp/verify/", {"token": codes[0]}).content.decode()
    assert "验证码不正确" in page  # used up
    assert other.get("/")["Location"].startswith("/account/otp/verify/")
    assert AuditEntry.objects.filter(action="otp_failed").count() == 2


def test_next_is_not_an_open_redirect(client, world, otp_on):
    password_login(client, "sam")
    device, _ = _setup_totp(client, "sam")
    client.post("/logout/")
    password_login(client, "sam")
    response = client.post(
        "/account/otp/verify/",
        {"token": totp_code(device, ahead=1), "next": "https://evil.example/"},
    )
    assert response["Location"] == "/"


def test_other_staff_may_enable_it_voluntarily(client, world, otp_on):
    password_login(client, "alice")
    assert client.get("/").status_code == 200  # not forced
    page = client.get("/account/").content.decode()
    assert "建议启用" in page
    device, _ = _setup_totp(client, "alice")
    client.post("/logout/")
    password_login(client, "alice")
    assert client.get("/cases/")["Location"].startswith("/account/otp/verify/")
    client.post("/account/otp/verify/", {"token": totp_code(device, ahead=1)})
    assert client.get("/cases/").status_code == 200


def test_regenerating_recovery_codes_voids_the_old_ones(client, world, otp_on):
    password_login(client, "alice")
    _, old = _setup_totp(client, "alice")
    page = client.post("/account/otp/recovery-codes/").content.decode()
    new = list(StaticToken.objects.filter(device__user=world.alice).values_list("token", flat=True))
    assert len(new) == 10 and not set(new) & set(old)
    assert all(c in page for c in new)


def test_admin_site_requires_a_verified_session_even_without_the_middleware(rf, world, otp_on):
    from django.contrib.admin import site
    from django.contrib.auth.models import AnonymousUser

    request = rf.get("/admin/")
    request.user = world.sam
    request.user.is_verified = lambda: False  # type: ignore[method-assign]
    assert not site.has_permission(request)
    request.user.is_verified = lambda: True  # type: ignore[method-assign]
    assert site.has_permission(request)
    request.user = AnonymousUser()
    assert not site.has_permission(request)


def test_wrong_codes_are_throttled(client, world, otp_on):
    otp_on.OTP_TOTP_THROTTLE_FACTOR = 1
    password_login(client, "sam")
    device, _ = _setup_totp(client, "sam")
    client.post("/logout/")
    password_login(client, "sam")
    client.post("/account/otp/verify/", {"token": "000000"})
    page = client.post(
        "/account/otp/verify/", {"token": totp_code(device, ahead=1)}
    ).content.decode()
    assert "验证码错误次数过多，请稍候再试" in page  # even the right code waits
    assert client.get("/")["Location"].startswith("/account/otp/verify/")
