"""Per-user security state: the session epoch (logout everywhere) and password history."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AccountSecurity(models.Model):
    """One row per user who ever used "logout everywhere". A session remembers the epoch it was
    created under; raising the epoch ends every older session at its next request."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name="用户",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="account_security",
    )
    session_epoch = models.PositiveIntegerField("会话代数", default=0)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "账号安全状态"
        verbose_name_plural = "账号安全状态"

    def __str__(self) -> str:
        return f"{self.user} · 第 {self.session_epoch} 代会话"


class PasswordHistory(models.Model):
    """The hash of every password a user has had (newest first); the validator refuses the
    last ``PASSWORD_HISTORY_DEPTH``. Only hashes, as stored in ``User.password``."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="用户",
        on_delete=models.CASCADE,
        related_name="password_history",
    )
    password = models.CharField("密码哈希", max_length=128)
    created_at = models.DateTimeField("设置时间", auto_now_add=True)

    class Meta:
        verbose_name = "历史密码"
        verbose_name_plural = "历史密码"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="pwhistory_user_recent")]

    def __str__(self) -> str:
        return f"{self.user} · {self.created_at:%Y-%m-%d %H:%M}"
