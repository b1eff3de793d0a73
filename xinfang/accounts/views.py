"""Login (password, then the second factor), 我的账号, TOTP setup, password change, unlocks."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from xinfang.accounts import services
from xinfang.accounts import sessions as S
from xinfang.accounts.forms import TokenForm, UnlockForm
from xinfang.accounts.policy import UNLOCK_PERMISSION, otp_required, user_roles
from xinfang.audit.services import audit_record
from xinfang.core.errors import DomainError
from xinfang.org.models import Role


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": "用户名或密码不正确，请重新输入。连续 %(limit)s 次错误将暂时锁定。",
        "inactive": "该账号已停用，请联系系统管理员。",
    }

    def get_invalid_login_error(self):  # type: ignore[no-untyped-def]
        from django.core.exceptions import ValidationError

        return ValidationError(
            self.error_messages["invalid_login"],
            code="invalid_login",
            params={"limit": settings.AXES_FAILURE_LIMIT},
        )


class LoginView(auth_views.LoginView):
    """Step 1: the password. Step 2 (the OTP) is asked by ``TwoFactorMiddleware`` on the next
    page when the user has a confirmed device, or set up when their role requires one."""

    form_class = LoginForm
    template_name = "registration/login.html"


def lockout_response(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponse:
    """Axes' answer while an account or address is locked (``AXES_LOCKOUT_CALLABLE``)."""
    minutes = int(_cooloff().total_seconds() // 60)
    context = {
        "form": LoginForm(request),
        "locked": True,
        "lock_message": (
            f"登录失败次数过多（连续 {settings.AXES_FAILURE_LIMIT} 次），该账号或当前网络地址已被"
            f"暂时锁定。请 {minutes} 分钟后再试，或联系系统管理员、安全管理员解除锁定。"
        ),
    }
    return render(request, "registration/login.html", context, status=429)


def _cooloff() -> dt.timedelta:
    value = settings.AXES_COOLOFF_TIME
    if isinstance(value, dt.timedelta):
        return value
    return dt.timedelta(hours=float(value or 0))


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


@login_required
def account(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    roles = user_roles(user)
    context = {
        "role_names": list(Role.objects.filter(code__in=roles).values_list("name", flat=True)),
        "has_totp": services.has_confirmed_totp(user),
        "otp_required": otp_required(user),
        "recovery_left": services.recovery_codes_left(user),
        "can_unlock": user.has_perm(UNLOCK_PERMISSION),
        "login_at": _from_epoch(request.session.get(S.AUTH_AT)),
        "idle_minutes": settings.ACCOUNTS_IDLE_TIMEOUT // 60,
        "max_hours": settings.ACCOUNTS_SESSION_MAX_AGE // 3600,
    }
    return render(request, "accounts/account.html", context)


def _from_epoch(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    return dt.datetime.fromtimestamp(int(value), tz=dt.UTC)


@login_required
@require_POST
def logout_all_view(request: HttpRequest) -> HttpResponse:
    services.logout_all(user=request.user, request=request)
    request._xf_logout_reason = "epoch"  # type: ignore[attr-defined]
    logout(request)
    messages.success(request, "已退出您在所有浏览器和设备上的登录，请重新登录。API 令牌不受影响。")
    return redirect(settings.LOGIN_URL)


class PasswordChange(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:account")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)  # saves, keeps this session (update_session_auth_hash)
        user = form.user
        audit_record(
            action="password_change",
            actor=user,
            obj=user,
            summary=f"{user.get_username()} 修改密码",
            request=self.request,
        )
        # The new auth hash ends other sessions already; keep the stamps of this one.
        messages.success(self.request, "密码已修改。其他设备上的登录需要用新密码重新登录。")
        return response


def _qr_svg(data: str) -> str:
    return str(segno.make(data, error="m").svg_inline(scale=5, border=2, dark="#111"))


def _secret_text(device: TOTPDevice) -> str:
    from base64 import b32encode

    raw = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


@login_required
def otp_setup(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    next_url = _safe_next(request, reverse("home"))
    if services.has_confirmed_totp(user):
        request.session[S.HAS_OTP] = True
        if not user.is_verified():
            return redirect(f"{reverse('accounts:otp_verify')}?{urlencode({'next': next_url})}")
        messages.info(request, "您已启用双因素认证。")
        return redirect("accounts:account")
    device = services.pending_totp_device(user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = services.totp_confirm(
                user=user, token=form.cleaned_data["token"], request=request
            )
        except DomainError as exc:
            form.add_error("token", exc.message)
        else:
            otp_login(request, device)
            request.session.cycle_key()
            request.session[S.HAS_OTP] = True
            return render(
                request,
                "accounts/recovery_codes.html",
                {"codes": codes, "next": next_url, "first_time": True},
            )
    context = {
        "form": form,
        "qr_svg": _qr_svg(device.config_url),
        "secret": _secret_text(device),
        "required": otp_required(user),
        "next": next_url,
    }
    return render(request, "accounts/otp_setup.html", context)


@login_required
def otp_verify_view(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    next_url = _safe_next(request, reverse("home"))
    if user.is_verified():
        return redirect(next_url)
    if not services.has_confirmed_totp(user) and not services.recovery_codes_left(user):
        request.session[S.HAS_OTP] = False
        return redirect(next_url)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = services.otp_verify(
                user=user, token=form.cleaned_data["token"], request=request
            )
        except DomainError as exc:
            form.add_error("token", exc.message)
        else:
            otp_login(request, device)
            request.session.cycle_key()
            if device.__class__.__name__ == "StaticDevice":
                left = services.recovery_codes_left(user)
                messages.warning(
                    request,
                    f"您使用了一个恢复码，还剩 {left} 个。恢复码用完前请在“我的账号”中重新生成。",
                )
            return redirect(next_url)
    return render(request, "accounts/otp_verify.html", {"form": form, "next": next_url})


@login_required
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """Regenerate the 10 recovery codes (old ones stop working); shown once."""
    if request.method != "POST":
        return redirect("accounts:account")
    try:
        codes = services.recovery_codes_regenerate(user=request.user, request=request)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("accounts:account")
    return render(
        request,
        "accounts/recovery_codes.html",
        {"codes": codes, "next": reverse("accounts:account"), "first_time": False},
    )


@login_required
def lockouts(request: HttpRequest) -> HttpResponse:
    """Current lockouts and the unlock form (系统管理员 / 安全管理员)."""
    from axes.models import AccessAttempt

    if not request.user.has_perm(UNLOCK_PERMISSION):
        raise PermissionDenied("只有系统管理员或安全管理员可以解除登录锁定。")
    form = UnlockForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        removed = services.unlock(
            by=request.user,
            username=form.cleaned_data.get("username") or "",
            ip=form.cleaned_data.get("ip") or "",
            request=request,
        )
        messages.success(request, f"已解除锁定，清除 {removed} 条失败记录。")
        return redirect("accounts:lockouts")
    since = timezone.now() - _cooloff()
    attempts = AccessAttempt.objects.filter(attempt_time__gte=since).order_by("-attempt_time")[:200]
    limit = settings.AXES_FAILURE_LIMIT
    rows = [
        {
            "username": a.username,
            "ip": a.ip_address,
            "failures": a.failures_since_start,
            "at": a.attempt_time,
            "locked": a.failures_since_start >= limit,
        }
        for a in attempts
    ]
    return render(
        request,
        "accounts/lockouts.html",
        {
            "form": form,
            "rows": rows,
            "limit": limit,
            "cooloff": int(_cooloff().total_seconds() // 60),
        },
    )
