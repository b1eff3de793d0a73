"""Password rules (settings.AUTH_PASSWORD_VALIDATORS), with Chinese messages.

- ``CharacterClassValidator``: at least 3 of 4 classes (upper, lower, digit, symbol).
- ``ChinesePatternValidator``: passwords common among Chinese users that Django's English
  list misses — a short blocklist ("Aa123456", "Woaini520", "Qwer1234!"), keyboard runs, and
  pinyin words followed by digits ("zhangwei123", "Beijing2024!").
- ``PasswordHistoryValidator``: none of the last ``depth`` passwords again; its
  ``password_changed`` hook (called by Django after every ``set_password`` + ``save``) records
  the new hash.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError

SYMBOL_RE = re.compile(r"[^A-Za-z0-9]")


class MinimumLengthValidator:
    """Django's has no Chinese translation of its message; the same rule, said in Chinese."""

    def __init__(self, min_length: int = 8) -> None:
        self.min_length = min_length

    def validate(self, password: str, user: Any = None) -> None:
        if len(password) < self.min_length:
            raise ValidationError(
                "密码太短，至少需要 %(min_length)d 个字符。",
                code="password_too_short",
                params={"min_length": self.min_length},
            )

    def get_help_text(self) -> str:
        return f"密码至少需要 {self.min_length} 个字符。"


class CharacterClassValidator:
    def __init__(self, min_classes: int = 3) -> None:
        self.min_classes = min_classes

    def validate(self, password: str, user: Any = None) -> None:
        classes = sum(
            [
                any(c.isupper() for c in password),
                any(c.islower() for c in password),
                any(c.isdigit() for c in password),
                bool(SYMBOL_RE.search(password)),
            ]
        )
        if classes < self.min_classes:
            raise ValidationError(
                "密码须至少包含大写字母、小写字母、数字、符号中的 %(n)d 类。",
                code="password_too_few_classes",
                params={"n": self.min_classes},
            )

    def get_help_text(self) -> str:
        return f"密码须至少包含大写字母、小写字母、数字、符号中的 {self.min_classes} 类。"


# Normalised (lower-case) passwords seen at the top of Chinese leak lists.
CHINESE_COMMON = frozenset(
    {
        "aa123456",
        "aa123456.",
        "aa123456!",
        "a1234567",
        "a12345678",
        "abc12345",
        "abc123456",
        "abcd1234",
        "qq123456",
        "qq123456789",
        "woaini520",
        "woaini1314",
        "woaini521",
        "5201314a",
        "a5201314",
        "qwer1234",
        "qwer1234!",
        "qwer1234.",
        "qwe123456",
        "1qaz2wsx",
        "1qaz@wsx",
        "1qaz!qaz",
        "p@ssw0rd",
        "passw0rd",
        "admin123",
        "admin@123",
        "admin123!",
        "root1234",
        "zxcvbnm123",
        "asdf1234",
        "asd123456",
        "zxc123456",
        "mima1234",
        "mima123456",
        "xinfang123",
    }
)
KEYBOARD_RUNS = ("qwert", "asdfg", "zxcvb", "1qaz", "2wsx", "qazwsx", "123qwe", "qweasd")
_INITIAL = r"(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?"
_FINAL = (
    r"(?:iang|iong|uang|ang|eng|ing|ong|ian|iao|uai|uan|ai|ei|ui|ao|ou|iu|ie|ue|ve|er|"
    r"an|en|in|un|ia|ua|uo|a|o|e|i|u|v)"
)
# 2–4 pinyin syllables, then only digits and symbols (at least one digit): "zhangwei123".
PINYIN_DIGITS_RE = re.compile(rf"(?:{_INITIAL}{_FINAL}){{2,4}}[^a-z]*\d[^a-z]*")


class ChinesePatternValidator:
    def validate(self, password: str, user: Any = None) -> None:
        lowered = password.lower()
        if lowered in CHINESE_COMMON or lowered.rstrip("!.@#") in CHINESE_COMMON:
            raise ValidationError(
                "这是一个常见密码，容易被猜中，请换一个。", code="password_common_cn"
            )
        if any(run in lowered for run in KEYBOARD_RUNS):
            raise ValidationError(
                "密码含有键盘上连续的按键（如 qwer、1qaz），容易被猜中，请换一个。",
                code="password_keyboard_run",
            )
        if PINYIN_DIGITS_RE.fullmatch(lowered):
            raise ValidationError(
                "密码是“拼音+数字”的常见组合（如 zhangwei123），容易被猜中，请换一个。",
                code="password_pinyin_digits",
            )

    def get_help_text(self) -> str:
        return "不能使用常见密码、键盘连续按键或“拼音+数字”的组合。"


class PasswordHistoryValidator:
    def __init__(self, depth: int = 5) -> None:
        self.depth = depth

    def _recent_hashes(self, user: Any) -> list[str]:
        from xinfang.accounts.models import PasswordHistory

        hashes = list(
            PasswordHistory.objects.filter(user_id=user.pk).values_list("password", flat=True)[
                : self.depth
            ]
        )
        # The current password counts even when it predates the history table.
        current = getattr(user, "password", "")
        if user.pk and not hashes:
            from django.contrib.auth import get_user_model

            current = (
                get_user_model()
                .objects.filter(pk=user.pk)
                .values_list("password", flat=True)
                .first()
                or current
            )
            hashes = [current] if current else []
        return hashes

    def validate(self, password: str, user: Any = None) -> None:
        if user is None or not getattr(user, "pk", None):
            return
        for encoded in self._recent_hashes(user):
            if check_password(password, encoded):
                raise ValidationError(
                    "不能使用最近 %(n)d 次用过的密码。",
                    code="password_reused",
                    params={"n": self.depth},
                )

    def password_changed(self, password: str, user: Any = None) -> None:
        if user is None or not getattr(user, "pk", None) or not user.has_usable_password():
            return
        from xinfang.accounts.models import PasswordHistory

        PasswordHistory.objects.create(user_id=user.pk, password=user.password)
        stale = PasswordHistory.objects.filter(user_id=user.pk).values_list("pk", flat=True)[
            self.depth :
        ]
        PasswordHistory.objects.filter(pk__in=list(stale)).delete()

    def get_help_text(self) -> str:
        return f"不能使用最近 {self.depth} 次用过的密码。"
