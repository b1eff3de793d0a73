"""The Django admin, opened by role (policy.ADMIN_ROLES) with a TOTP-verified session.

``is_staff`` is not what lets someone in: a post as 系统管理员, 安全管理员 or 审计员 is (or, in
debug mode only, ``is_superuser``). What each can do inside comes from
``policy.ROLE_PERMISSIONS`` through ``RolePermissionBackend``. Sign-in goes through the site's
own login page (password, then the second factor), never the admin's.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from xinfang.accounts.policy import is_admin_user, otp_enforced


def admin_otp_pending(request: HttpRequest) -> bool:
    user: Any = request.user
    return otp_enforced() and not user.is_verified()


class XinfangAdminSite(admin.AdminSite):
    site_header = "民声 · 管理后台"
    site_title = "民声管理后台"
    index_title = "系统管理"

    def has_permission(self, request: HttpRequest) -> bool:
        return is_admin_user(request.user) and not admin_otp_pending(request)

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        next_url = request.GET.get("next") or reverse("admin:index")
        if not request.user.is_authenticated:
            return redirect_to_login(next_url, reverse("login"))
        if is_admin_user(request.user) and admin_otp_pending(request):
            from xinfang.accounts.sessions import HAS_OTP

            target = "accounts:otp_verify" if request.session.get(HAS_OTP) else "accounts:otp_setup"
            return redirect(f"{reverse(target)}?{urlencode({'next': next_url})}")
        raise PermissionDenied("您的角色无权使用管理后台（仅系统管理员、安全管理员、审计员）。")
