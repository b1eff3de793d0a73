"""Separation of duties (三权分立) as a table: which Django model permissions each role holds.

The admin (and anything else asking ``user.has_perm``) goes through
``backends.RolePermissionBackend``, which grants exactly the union of this table over the
user's roles. Nothing else grants a permission: no groups, no per-user grants and, outside
debug mode, no superuser shortcut (``ACCOUNTS_SUPERUSER_SHORTCUT``).

- 系统管理员 manages users and settings (units, categories, deadline rules, the calendar, API
  tokens) — and reads no case: no permission on ``cases.case`` or ``people.*`` here, and the
  role is not in ``org.roles.CASE_READERS``.
- 安全管理员 manages roles and posts (who holds which role where), unlocks accounts and resets
  a lost second factor — and cannot edit users or set their passwords (only ``view_user``).
- 审计员 reads the audit log, nothing else.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from xinfang.org import roles as R


def _crud(app_model: str, *actions: str) -> set[str]:
    app, model = app_model.split(".")
    return {f"{app}.{action}_{model}" for action in actions}


ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    R.SYSADMIN: frozenset(
        _crud("auth.user", "add", "change", "view")
        | _crud("org.unit", "add", "change", "view")
        | _crud("org.role", "view")
        | _crud("org.membership", "view")
        | _crud("org.apitoken", "add", "change", "view")
        | _crud("cases.category", "add", "change", "view")
        | _crud("cases.deadlinerule", "change", "view")
        | _crud("followup.hearingmember", "add", "change", "view")  # the 听证员 pool
        | _crud("directory.organ", "add", "change", "view")  # 办事指南 (管辖机关)
        | _crud("core.calendarday", "add", "change", "delete", "view")
        | _crud("core.calendaryear", "add", "change", "delete", "view")
        | _crud("prevention.screeningrule", "add", "change", "view")  # 排查周期 (data)
        | _crud("prevention.warningrule", "change", "view")  # 预警规则参数
        | _crud("axes.accessattempt", "view", "delete")
    ),
    R.SECADMIN: frozenset(
        _crud("auth.user", "view")
        | _crud("org.unit", "view")
        | _crud("org.role", "change", "view")
        | _crud("org.membership", "add", "change", "delete", "view")
        | _crud("axes.accessattempt", "view", "delete")
        | _crud("otp_totp.totpdevice", "view", "delete")
        | _crud("otp_static.staticdevice", "view", "delete")
    ),
    R.AUDITOR: frozenset(_crud("audit.auditentry", "view")),
}

# Roles that may open the Django admin at all; every one of them must use TOTP.
ADMIN_ROLES = frozenset({R.SYSADMIN, R.SECADMIN, R.AUDITOR})
OTP_REQUIRED_ROLES = ADMIN_ROLES

# Who may unlock a locked-out account or address (the 解除锁定 page).
UNLOCK_PERMISSION = "axes.delete_accessattempt"


def superuser_shortcut() -> bool:
    """``is_superuser`` means something only in debug mode (``make run``)."""
    return bool(getattr(settings, "ACCOUNTS_SUPERUSER_SHORTCUT", False))


def otp_enforced() -> bool:
    return bool(getattr(settings, "ACCOUNTS_OTP_ENFORCED", True))


def role_permissions(roles: set[str]) -> set[str]:
    perms: set[str] = set()
    for role in roles:
        perms |= ROLE_PERMISSIONS.get(role, frozenset())
    return perms


def user_roles(user: Any) -> set[str]:
    from xinfang.org.policy import role_codes

    if not getattr(user, "is_authenticated", False):
        return set()
    return role_codes(user)


def is_admin_user(user: Any) -> bool:
    """May open the Django admin: holds an admin role (or, in debug mode only, is a superuser)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user_roles(user) & ADMIN_ROLES:
        return True
    return superuser_shortcut() and bool(user.is_superuser)


def otp_required(user: Any) -> bool:
    """Must this user have a confirmed TOTP device (and verify it every session)?"""
    return otp_enforced() and bool(user_roles(user) & OTP_REQUIRED_ROLES)
