"""The public portal's own rows (docs/portal.md).

Citizens are not staff users: an optional ``PortalAccount`` (phone + password, the phone
proved by a code sent to it) lives here, apart from ``auth.User``, so no staff rule (roles,
TOTP, lockouts of staff logins) applies to it and no citizen can ever hold a post. A
submission is first a ``PendingSubmission`` (checked, shown back on the review page), then a
case through ``cases.registration.case_register_online``; ``PortalSubmission`` records which
cases came from the portal and from which account.
"""

from __future__ import annotations

from django.db import models

from xinfang.cases.models import Case

PHONE_CONTEXT = b"portal.account.phone"
PHONE_PURPOSE = "portal.phone"  # blind index purpose of an account's phone
PAYLOAD_CONTEXT = b"portal.pending.payload"


class PortalAccount(models.Model):
    """A citizen's optional account: log in with phone + password, see all own petitions."""

    phone_enc = models.TextField("手机号码（密文）", editable=False)
    phone_bidx = models.CharField("手机号码索引", max_length=64, unique=True, editable=False)
    password = models.CharField("密码（散列）", max_length=200, editable=False)
    name = models.CharField("称呼", max_length=60, blank=True)
    is_active = models.BooleanField("有效", default=True)
    created_at = models.DateTimeField("注册时间")
    last_login_at = models.DateTimeField("最近登录", null=True, blank=True)
    # Bumped on password change / logout everywhere: sessions holding an older value end.
    session_epoch = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = "公众账号"
        verbose_name_plural = "公众账号"

    def __str__(self) -> str:
        return f"公众账号 {self.pk}"


class PhoneChallenge(models.Model):
    """A verification code sent to a phone (account registration, password reset). Only a hash
    of the code is kept; a few wrong tries use it up."""

    class Purpose(models.TextChoices):
        REGISTER = "register", "注册账号"
        RESET = "reset", "重设密码"

    phone_bidx = models.CharField(max_length=64, db_index=True)
    purpose = models.CharField(max_length=10, choices=Purpose.choices)
    code_hash = models.CharField(max_length=200)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "手机验证码"
        verbose_name_plural = "手机验证码"

    def __str__(self) -> str:
        return f"{self.purpose} {self.created_at:%Y-%m-%d %H:%M}"


class PendingSubmission(models.Model):
    """A checked submission waiting for the citizen's confirmation on the review page.

    ``payload_enc`` holds the form (ID numbers and phones included) encrypted; the attachments
    are already checked and stored under ``pending_dir``. ``session_hash`` ties it to the
    browser session that made it (a token alone does not confirm). ``case`` is set in the
    confirming transaction: a confirmation sent twice (double click, retry after a dropped
    connection) returns that case.
    """

    token = models.CharField(max_length=64, unique=True)
    session_hash = models.CharField(max_length=64)
    payload_enc = models.TextField(editable=False)
    files = models.JSONField(default=list, blank=True)
    account = models.ForeignKey(
        PortalAccount, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    case = models.OneToOneField(
        Case, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "待确认的网上信访"
        verbose_name_plural = "待确认的网上信访"

    def __str__(self) -> str:
        return f"pending {self.pk}"


class PortalSubmission(models.Model):
    """A case submitted on the portal: when, under which privacy-notice version, by which
    account (if logged in)."""

    case = models.OneToOneField(
        Case, primary_key=True, on_delete=models.PROTECT, related_name="portal_submission"
    )
    account = models.ForeignKey(
        PortalAccount,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="submissions",
    )
    submitted_at = models.DateTimeField("提交时间")
    consent_version = models.CharField("隐私告知版本", max_length=20)

    class Meta:
        verbose_name = "网上信访提交"
        verbose_name_plural = "网上信访提交"

    def __str__(self) -> str:
        return str(self.case_id)


class AccountCase(models.Model):
    """A case linked to an account by proof: its query code and the phone or ID tail entered
    on the tracking form while logged in. (A phone match alone links only cases registered
    after the account was made: a recycled number must not open its previous holder's cases.)"""

    account = models.ForeignKey(PortalAccount, on_delete=models.PROTECT, related_name="links")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+")
    linked_at = models.DateTimeField("关联时间")

    class Meta:
        verbose_name = "账号关联事项"
        verbose_name_plural = "账号关联事项"
        constraints = [
            models.UniqueConstraint(fields=["account", "case"], name="portal_account_case_once")
        ]

    def __str__(self) -> str:
        return f"{self.account_id}→{self.case_id}"
