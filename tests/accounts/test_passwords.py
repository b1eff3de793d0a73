"""Password policy: length, 3 of 4 classes, blocklists, no reuse of the last 5; the change page."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils import translation

from xinfang.accounts.models import PasswordHistory
from xinfang.audit.models import AuditEntry


def _errors(password: str, user: User | None = None) -> str:
    with translation.override("zh-hans"):
        try:
            validate_password(password, user)
        except ValidationError as exc:
            return " ".join(exc.messages)
    return ""


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Ab1!x", "密码太短，至少需要 8 个字符"),
        ("abcdefghij", "3 类"),
        ("abcdefgh12", "3 类"),
        ("Aa123456", "常见密码"),
        ("Woaini520", "常见密码"),
        ("Qwer1234!", "常见密码"),
        ("1qaz2WSX!", "常见密码"),
        ("Zxcvbn-998", "键盘"),
        ("Zhangwei123", "拼音+数字"),
        ("Beijing2024!", "拼音+数字"),
        ("Password1!", "太常见"),
    ],
)
def test_weak_passwords_are_refused_in_chinese(db, password, message):
    assert message in _errors(password)


@pytest.mark.parametrize("password", ["Xf-test-pass-1", "Hong#Lu-Qiao-27", "tree.River.88"])
def test_good_passwords_pass(db, password):
    assert _errors(password) == ""


def test_last_five_passwords_cannot_be_reused(world):
    user = world.alice
    passwords = [f"Strong-Pass-{n}x" for n in range(6)]
    for p in passwords:
        user.set_password(p)
        user.save()
    assert PasswordHistory.objects.filter(user=user).count() == 5
    for p in passwords[1:]:
        assert "最近 5 次" in _errors(p, user), p
    assert _errors(passwords[0], user) == ""  # the sixth-newest is allowed again


def test_current_password_counts_without_history(world):
    PasswordHistory.objects.all().delete()
    assert "最近 5 次" in _errors("Xf-test-pass-1", world.alice)


def test_password_change_page(client, world):
    client.force_login(world.alice)
    page = client.post(
        "/account/password/",
        {
            "old_password": "Xf-test-pass-1",
            "new_password1": "Xf-test-pass-1",
            "new_password2": "Xf-test-pass-1",
        },
    ).content.decode()
    assert "不能使用最近 5 次用过的密码" in page
    page = client.post(
        "/account/password/",
        {
            "old_password": "Xf-test-pass-1",
            "new_password1": "Aa123456",
            "new_password2": "Aa123456",
        },
    ).content.decode()
    assert "常见密码" in page
    response = client.post(
        "/account/password/",
        {
            "old_password": "Xf-test-pass-1",
            "new_password1": "Qing-Shan-77x",
            "new_password2": "Qing-Shan-77x",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/account/"
    assert client.get("/").status_code == 200  # this session stays
    world.alice.refresh_from_db()
    assert world.alice.check_password("Qing-Shan-77x")
    assert AuditEntry.objects.filter(action="password_change", actor_id=world.alice.pk).count() == 1
