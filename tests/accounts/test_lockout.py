"""Lockout after 5 failed logins per user name and per address, timed release, admin unlock."""

from __future__ import annotations

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.utils import timezone

from tests.accounts.conftest import password_login
from xinfang.audit.models import AuditEntry

pytestmark = pytest.mark.usefixtures("axes_on")

LOCK_TEXT = "登录失败次数过多"


def test_five_bad_passwords_lock_the_account_even_for_the_right_password(client, world):
    for i in range(4):
        response = password_login(client, "alice", f"wrong-{i}")
        assert response.status_code == 200
        assert "用户名或密码不正确" in response.content.decode()
    response = password_login(client, "alice", "wrong-5")
    assert response.status_code == 429
    assert LOCK_TEXT in response.content.decode() and "30 分钟" in response.content.decode()
    # Locked: the right password is refused too, from another address as well (per user name).
    other = Client(REMOTE_ADDR="10.9.9.9")
    response = password_login(other, "alice")
    assert response.status_code == 429
    assert "_auth_user_id" not in other.session
    actions = list(AuditEntry.objects.order_by("seq").values_list("action", flat=True))
    assert actions.count("lockout") == 1
    assert actions.count("login_failed") == 6
    assert "login" not in actions


def test_five_failures_from_one_address_lock_that_address(client, world):
    for i, name in enumerate(["x1", "x2", "x3", "x4", "x5"]):
        password_login(client, name, f"bad{i}")
    response = password_login(client, "rita")  # a valid login, same address
    assert response.status_code == 429
    elsewhere = Client(REMOTE_ADDR="10.1.2.3")
    assert password_login(elsewhere, "rita").status_code == 302  # the user name is not locked


def test_success_resets_the_count(client, world):
    for i in range(4):
        password_login(client, "alice", f"wrong-{i}")
    assert password_login(client, "alice").status_code == 302
    client.logout()
    for i in range(4):
        password_login(client, "alice", f"again-{i}")
    assert password_login(client, "alice").status_code == 302


def test_lock_is_released_after_the_cooloff(client, world):
    for i in range(5):
        password_login(client, "alice", f"wrong-{i}")
    assert password_login(client, "alice").status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(minutes=31))
    assert password_login(client, "alice").status_code == 302


@pytest.mark.parametrize("who", ["sam", "sec"])
def test_admin_unlocks_in_the_ui_and_it_is_audited(client, world, admins, who):
    attacker = Client(REMOTE_ADDR="10.6.6.6")
    for i in range(5):
        password_login(attacker, "alice", f"wrong-{i}")
    assert password_login(attacker, "alice").status_code == 429

    admin = Client()
    admin.force_login(admins[who])
    page = admin.get("/account/lockouts/").content.decode()
    assert "alice" in page and "已锁定" in page
    response = admin.post("/account/lockouts/", {"username": "alice"}, follow=True)
    assert "已解除锁定" in response.content.decode()
    assert password_login(attacker, "alice").status_code == 302
    entry = AuditEntry.objects.filter(action="unlock").get()
    assert entry.actor_id == admins[who].pk and "alice" in entry.summary


def test_unlock_needs_an_admin_role(client, world, admins):
    client.force_login(world.alice)
    assert client.get("/account/lockouts/").status_code == 403
    assert client.post("/account/lockouts/", {"username": "bob"}).status_code == 403
    client.force_login(admins["aud"])
    assert client.get("/account/lockouts/").status_code == 403
    assert not AuditEntry.objects.filter(action="unlock").exists()


def test_unlock_form_needs_a_target(client, world):
    client.force_login(world.sam)
    page = client.post("/account/lockouts/", {"username": "", "ip": ""}).content.decode()
    assert "请指定要解除锁定的用户名或 IP 地址" in page
    page = client.post("/account/lockouts/", {"ip": "not-an-ip"}).content.decode()
    assert "请输入有效的 IP 地址" in page
