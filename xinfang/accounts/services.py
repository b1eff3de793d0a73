"""Writes: logout everywhere, TOTP enrolment and recovery codes, unlocking, each audited."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from xinfang.accounts.models import AccountSecurity
from xinfang.audit.services import audit_record
from xinfang.core.errors import DomainError

RECOVERY_CODE_COUNT = 10
TOTP_NAME = "身份验证器"
RECOVERY_NAME = "恢复码"


@transaction.atomic
def logout_all(*, user: Any, request: HttpRequest | None = None) -> int:
    """End every session of ``user`` (this one included) by raising the session epoch.
    API tokens and devices are left alone. Returns the new epoch."""
    row, _ = AccountSecurity.objects.get_or_create(user=user)
    AccountSecurity.objects.filter(pk=row.pk).update(session_epoch=F("session_epoch") + 1)
    row.refresh_from_db()
    audit_record(
        action="logout_all",
        actor=user,
        obj=user,
        summary=f"{user.get_username()} 退出全部会话",
        detail={"epoch": row.session_epoch},
        request=request,
    )
    return row.session_epoch


def pending_totp_device(user: Any) -> TOTPDevice:
    """The unconfirmed device being set up (created once, reused on reload so the QR code the
    person already scanned stays valid)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)
    return device


def has_confirmed_totp(user: Any) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def totp_confirm(
    *, user: Any, token: str, request: HttpRequest | None = None
) -> tuple[TOTPDevice, list[str]]:
    """Confirm the pending device with a code from the app; issue fresh recovery codes.
    Returns the device and the recovery codes (shown once, stored only as device tokens).
    A wrong code is audited and counts towards the device's throttle (both committed)."""
    if has_confirmed_totp(user):
        raise DomainError("您已启用双因素认证，无需重复绑定。", field="token")
    token = token.strip().replace(" ", "")
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user=user, confirmed=False)
            .order_by("-id")
            .first()
        )
        if device is None:
            raise DomainError("绑定已失效，请刷新页面重新扫码。", field="token")
        if not token.isdigit() or len(token) != device.digits:
            raise DomainError(
                f"请输入身份验证器上显示的 {device.digits} 位数字验证码。", field="token"
            )
        allowed, _ = device.verify_is_allowed()
        if not allowed:
            raise DomainError("验证码错误次数过多，请稍候再试。", field="token")
        ok = device.verify_token(token)
        if ok:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user=user, confirmed=False).delete()
            codes = _new_recovery_codes(user)
            audit_record(
                action="otp_setup",
                actor=user,
                obj=user,
                summary=f"{user.get_username()} 绑定身份验证器并生成 {len(codes)} 个恢复码",
                request=request,
            )
            return device, codes
        audit_record(
            action="otp_failed",
            actor=user,
            obj=user,
            summary=f"{user.get_username()} 绑定双因素认证时验证码错误",
            detail={"stage": "setup"},
            request=request,
        )
    raise DomainError("验证码不正确或已过期，请核对手机时间后输入最新的验证码。", field="token")


def _new_recovery_codes(user: Any) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
    return codes


@transaction.atomic
def recovery_codes_regenerate(*, user: Any, request: HttpRequest | None = None) -> list[str]:
    if not has_confirmed_totp(user):
        raise DomainError("尚未启用双因素认证，不能生成恢复码。")
    codes = _new_recovery_codes(user)
    audit_record(
        action="otp_setup",
        actor=user,
        obj=user,
        summary=f"{user.get_username()} 重新生成 {len(codes)} 个恢复码（旧恢复码作废）",
        detail={"recovery_codes_only": True},
        request=request,
    )
    return codes


def recovery_codes_left(user: Any) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def otp_verify(*, user: Any, token: str, request: HttpRequest | None = None) -> Any:
    """Check a code against the user's TOTP device, then their recovery codes (a recovery
    code is used up). Returns the device that accepted it; raises ``DomainError`` otherwise.
    Failures are audited and throttled (django-otp's growing delay), and stay committed."""
    token = token.strip().replace(" ", "").replace("-", "")
    if not token:
        raise DomainError("请输入验证码。", field="token")
    with transaction.atomic():
        totp = list(TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True))
        for device in totp:
            allowed, _ = device.verify_is_allowed()
            if not allowed:
                raise DomainError("验证码错误次数过多，请稍候再试。", field="token")
        if token.isdigit() and len(token) == 6:
            for device in totp:
                if device.verify_token(token):
                    return device
        statics = StaticDevice.objects.select_for_update().filter(user=user, confirmed=True)
        for static in statics:
            if static.verify_token(token.lower()):
                left = recovery_codes_left(user)
                audit_record(
                    action="otp_recovery",
                    actor=user,
                    obj=user,
                    summary=f"{user.get_username()} 使用恢复码通过双因素认证，剩余 {left} 个",
                    detail={"left": left},
                    request=request,
                )
                return static
        for device in totp:
            if not (token.isdigit() and len(token) == 6):
                device.throttle_increment(commit=True)
        audit_record(
            action="otp_failed",
            actor=user,
            obj=user,
            summary=f"{user.get_username()} 双因素验证码错误",
            detail={"stage": "login"},
            request=request,
        )
    raise DomainError(
        "验证码不正确或已过期，请输入身份验证器上最新的 6 位数字，或一个未用过的恢复码。",
        field="token",
    )


def unlock(*, by: Any, username: str = "", ip: str = "", request: HttpRequest | None = None) -> int:
    """Clear the failed-login records of a user name or an address (axes), audited."""
    from axes.utils import reset

    username = username.strip()
    ip = ip.strip()
    if not username and not ip:
        raise DomainError("请指定要解除锁定的用户名或 IP 地址。", field="username")
    with transaction.atomic():
        removed = 0
        if username:
            removed += reset(username=username)
        if ip:
            removed += reset(ip=ip)
        target = "、".join(x for x in (f"用户名“{username}”" if username else "", ip) if x)
        audit_record(
            action="unlock",
            actor=by,
            object_type="user",
            object_id=username or ip,
            summary=f"解除登录锁定：{target}（清除 {removed} 条失败记录）",
            detail={"username": username, "ip": ip, "removed": removed},
            request=request,
        )
    return removed
