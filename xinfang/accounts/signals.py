"""Audit rows for logins, failures, logouts and lockouts; session stamps at login."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

from xinfang.audit.services import audit_record

LOGOUT_REASONS = {
    "idle": "空闲超时",
    "absolute": "超过会话最长时限",
    "epoch": "已在其他位置退出全部会话",
}


def _on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is None or not hasattr(request, "session"):
        return
    from xinfang.accounts.sessions import stamp

    stamp(request, user)
    audit_record(
        action="login",
        actor=user,
        obj=user,
        summary=f"{user.get_username()} 登录",
        request=request,
    )


def _on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is None:
        return
    reason = getattr(request, "_xf_logout_reason", "") if request is not None else ""
    summary = f"{user.get_username()} 退出登录"
    if reason:
        summary += f"（{LOGOUT_REASONS.get(reason, reason)}）"
    audit_record(
        action="logout",
        actor=user,
        obj=user,
        summary=summary,
        detail={"reason": reason or "user"},
        request=request,
    )


def _username(credentials: dict[str, Any]) -> str:
    return str(credentials.get("username") or "")[:150]


def _on_login_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    username = _username(credentials)
    known = get_user_model().objects.filter(username=username).only("pk").first()
    locked = bool(getattr(request, "axes_locked_out", False))
    audit_record(
        action="login_failed",
        object_type="user",
        object_id=known.pk if known else "",
        summary=f"用户名“{username}”登录失败" + ("（已锁定）" if locked else ""),
        detail={"username": username, "known_user": known is not None, "locked": locked},
        request=request,
    )


def _on_locked_out(
    sender: Any, request: Any = None, username: str = "", ip_address: str = "", **kwargs: Any
) -> None:
    # Axes sends this when the limit is reached and again on every attempt while locked;
    # only the first is a lockout (the later ones are audited as failed logins).
    if request is not None and getattr(request, "axes_failures_since_start", None) is None:
        return
    known = get_user_model().objects.filter(username=username or "").only("pk").first()
    audit_record(
        action="lockout",
        object_type="user",
        object_id=known.pk if known else "",
        summary=f"连续登录失败达到上限，暂停登录（用户名“{username}”，地址 {ip_address}）",
        detail={
            "username": username,
            "ip": ip_address,
            "failures": getattr(request, "axes_failures_since_start", None),
        },
        request=request,
        ip=ip_address or "",
    )


def connect() -> None:
    from axes.signals import user_locked_out

    user_logged_in.connect(_on_login, dispatch_uid="xf_accounts_login")
    user_logged_out.connect(_on_logout, dispatch_uid="xf_accounts_logout")
    user_login_failed.connect(_on_login_failed, dispatch_uid="xf_accounts_login_failed")
    user_locked_out.connect(_on_locked_out, dispatch_uid="xf_accounts_locked_out")
