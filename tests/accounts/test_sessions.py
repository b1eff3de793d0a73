"""Idle timeout, absolute limit, logout everywhere."""

from __future__ import annotations

import time

from django.test import Client

from tests.accounts.conftest import password_login
from xinfang.accounts import sessions as S
from xinfang.audit.models import AuditEntry
from xinfang.org.models import ApiToken


def _age(client: Client, *, seen: int = 0, auth: int = 0) -> None:
    session = client.session
    now = int(time.time())
    session[S.SEEN_AT] = now - seen
    session[S.AUTH_AT] = now - auth
    session.save()


def test_active_session_stays(client, world):
    assert password_login(client, "alice").status_code == 302
    _age(client, seen=29 * 60, auth=11 * 3600)
    assert client.get("/").status_code == 200
    assert int(client.session[S.SEEN_AT]) >= int(time.time()) - 5  # activity recorded


def test_idle_session_ends_with_a_chinese_message(client, world):
    password_login(client, "alice")
    _age(client, seen=31 * 60, auth=31 * 60)
    response = client.get("/cases/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=%2Fcases%2F")
    assert "_auth_user_id" not in client.session
    page = client.get(response["Location"]).content.decode()
    assert "您已超过 30 分钟未操作" in page
    entry = AuditEntry.objects.filter(action="logout").get()
    assert entry.detail["reason"] == "idle" and "空闲超时" in entry.summary


def test_absolute_limit_ends_even_an_active_session(client, world):
    password_login(client, "alice")
    _age(client, seen=10, auth=12 * 3600 + 60)
    response = client.get("/")
    assert response.status_code == 302
    assert "本次登录已超过 12 小时" in client.get(response["Location"]).content.decode()


def test_limits_follow_the_settings(client, world, settings):
    settings.ACCOUNTS_IDLE_TIMEOUT = 60
    password_login(client, "alice")
    _age(client, seen=120, auth=120)
    assert client.get("/").status_code == 302


def test_htmx_request_gets_hx_redirect(client, world):
    password_login(client, "alice")
    _age(client, seen=31 * 60, auth=31 * 60)
    response = client.get("/cases/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith("/login/")


def test_api_session_call_gets_401_json(client, world):
    password_login(client, "alice")
    assert client.get("/api/cases").status_code == 200
    _age(client, seen=31 * 60, auth=31 * 60)
    response = client.get("/api/cases")
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "session_expired" and "30 分钟" in body["detail"]


def test_logout_everywhere_ends_every_session_but_not_api_tokens(world):
    _, raw = ApiToken.issue(user=world.alice, name="对接")
    office, home = Client(), Client(REMOTE_ADDR="10.0.0.8")
    password_login(office, "alice")
    password_login(home, "alice")
    other_user = Client()
    password_login(other_user, "rita")
    assert home.get("/").status_code == 200

    page = office.get("/account/").content.decode()
    assert "退出全部会话" in page
    response = office.post("/account/logout-all/", follow=True)
    assert "已退出您在所有浏览器和设备上的登录" in response.content.decode()
    assert office.get("/").status_code == 302
    response = home.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert other_user.get("/").status_code == 200  # other people are untouched
    api = Client(headers={"Authorization": f"Bearer {raw}"})
    assert api.get("/api/cases").status_code == 200
    entry = AuditEntry.objects.filter(action="logout_all").get()
    assert entry.actor_id == world.alice.pk
    # A fresh login works again.
    assert password_login(home, "alice").status_code == 302
    assert home.get("/").status_code == 200


def test_logout_all_needs_post(client, world):
    client.force_login(world.alice)
    assert client.get("/account/logout-all/").status_code == 405


def test_login_and_logout_are_audited(client, world):
    password_login(client, "alice")
    client.post("/logout/")
    password_login(client, "alice", "wrong")
    actions = list(
        AuditEntry.objects.filter(action__in=["login", "logout", "login_failed"])
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == ["login", "logout", "login_failed"]
    failed = AuditEntry.objects.get(action="login_failed")
    assert failed.detail["username"] == "alice" and failed.ip == "127.0.0.1"
