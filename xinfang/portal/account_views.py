"""The citizen account pages: 注册, 登录/退出, 找回密码, 我的信访 (docs/portal.md "公众账号").

Thin: forms carry the typed values, ``accounts.py`` holds the rules. None of these touch the
staff authentication (``django.contrib.auth.login`` is never called; ``request.user`` stays
anonymous). Every form works without JavaScript.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from xinfang.core.errors import DomainError
from xinfang.core.masking import mask_phone
from xinfang.core.ratelimit import RateResult, client_ip
from xinfang.portal import accounts, services
from xinfang.portal.account_forms import (
    ChangePasswordForm,
    CodeForm,
    LoginForm,
    PhoneForm,
    RegisterForm,
)
from xinfang.portal.models import PhoneChallenge
from xinfang.portal.views import render_portal


@dataclass(frozen=True)
class Flow:
    """Registration and password reset: the same two steps (phone → code + password)."""

    purpose: str
    template: str
    url_name: str
    title: str
    intro: str
    sent: str
    form: type[CodeForm]
    done: str


FLOWS = {
    PhoneChallenge.Purpose.REGISTER: Flow(
        PhoneChallenge.Purpose.REGISTER,
        "portal/register.html",
        "portal:register",
        "注册账号",
        "用手机号码注册后，登录即可看到您的全部信访事项，不必逐件输入查询码。",
        accounts.CODE_SENT,
        RegisterForm,
        "注册成功，已为您登录。",
    ),
    PhoneChallenge.Purpose.RESET: Flow(
        PhoneChallenge.Purpose.RESET,
        "portal/reset.html",
        "portal:reset",
        "找回密码",
        "忘记密码时，用注册时的手机号码接收验证码，然后设置新密码。",
        "验证码已发送（如该号码已注册账号）",
        CodeForm,
        "密码已重设，已为您登录；其他设备上的登录已退出。",
    ),
}


def _throttled(request: HttpRequest, result: RateResult) -> HttpResponse:
    response = render_portal(
        request,
        "portal/account_throttled.html",
        {"message": accounts.throttled_message(result)},
        nav="account",
        status=429,
    )
    response["Retry-After"] = str(result.retry_after)
    return response


def _phone_identity(raw: str) -> str:
    """What the per-phone limits count: the canonical mobile, or the typed text."""
    try:
        return accounts.mobile(raw)
    except DomainError:
        return (raw or "").strip()[:40]


# --- registration and reset --------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    return _two_step(request, FLOWS[PhoneChallenge.Purpose.REGISTER])


@require_http_methods(["GET", "POST"])
def reset(request: HttpRequest) -> HttpResponse:
    return _two_step(request, FLOWS[PhoneChallenge.Purpose.RESET])


def _two_step(request: HttpRequest, flow: Flow) -> HttpResponse:
    def page(**context: Any) -> HttpResponse:
        if context.get("phone"):
            context["phone_masked"] = mask_phone(context["phone"])
        return render_portal(request, flow.template, {"flow": flow} | context, nav="account")

    if request.method != "POST":
        if flow.purpose == PhoneChallenge.Purpose.REGISTER and services.current_account(request):
            return redirect("portal:account")
        return page(step=1, form=PhoneForm())
    if request.POST.get("step") == "verify":
        form = flow.form(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                if flow.purpose == PhoneChallenge.Purpose.REGISTER:
                    account = accounts.account_register(
                        phone=data["phone"],
                        code=data["code"],
                        password=data["password"],
                        name=data.get("name", ""),
                    )
                else:
                    account = accounts.account_reset_password(
                        phone=data["phone"], code=data["code"], password=data["password"]
                    )
            except accounts.AlreadyRegistered:
                return page(step=2, form=form, already=True, phone=data["phone"])
            except DomainError as exc:
                form.add_domain_error(exc)
            else:
                accounts.session_login(request, account)
                messages.success(request, flow.done)
                return redirect("portal:account")
        phone = form.cleaned_data.get("phone") or ""
        if not phone:  # the hidden phone was tampered with: start again
            return page(step=1, form=PhoneForm(initial={"phone": form.data.get("phone", "")}))
        return page(step=2, form=form, phone=phone)
    # step 1 (or "重新获取验证码" from step 2): send a code
    phone_form = PhoneForm(request.POST)
    if not phone_form.is_valid():
        return page(step=1, form=phone_form)
    phone = phone_form.cleaned_data["phone"]
    over = accounts.throttled(("portal_sms_ip", client_ip(request)), ("portal_sms_phone", phone))
    if over is not None:
        return _throttled(request, over)
    accounts.challenge_send(phone=phone, purpose=flow.purpose)
    return page(step=2, form=flow.form(initial={"phone": phone}), phone=phone, sent=True)


# --- login and logout ------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    raw_next = request.POST.get("next") if request.method == "POST" else request.GET.get("next")
    next_url = accounts.safe_next(request, raw_next)
    if request.method != "POST":
        if services.current_account(request) is not None:
            return redirect(next_url or reverse("portal:account"))
        context = {"form": LoginForm(), "next_url": next_url}
        return render_portal(request, "portal/login.html", context, nav="account")
    form = LoginForm(request.POST)
    over = accounts.throttled(
        ("portal_login_ip", client_ip(request)),
        ("portal_login_phone", _phone_identity(request.POST.get("phone", ""))),
    )
    if over is not None:
        return _throttled(request, over)
    if form.is_valid():
        account = accounts.account_authenticate(
            form.cleaned_data["phone"], form.cleaned_data["password"]
        )
        if account is not None:
            accounts.session_login(request, account)
            return redirect(next_url or reverse("portal:account"))
        form.add_domain_error(DomainError(accounts.LOGIN_FAILED))
    context = {"form": form, "next_url": next_url}
    return render_portal(request, "portal/login.html", context, nav="account")


@require_http_methods(["GET", "POST"])
def logout(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":  # a link or a prefetch never logs out
        return redirect("portal:account")
    if services.current_account(request) is not None:
        messages.success(request, "您已退出登录。")
    accounts.session_logout(request)
    return redirect("portal:home")


# --- 我的信访 ---------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def account(request: HttpRequest) -> HttpResponse:
    current = services.current_account(request)
    if current is None:
        return redirect(
            reverse("portal:login") + "?" + urlencode({"next": request.get_full_path()})
        )
    password_form = ChangePasswordForm()
    if request.method == "POST":
        password_form = ChangePasswordForm(request.POST)
        over = accounts.throttled(
            ("portal_login_ip", client_ip(request)),
            ("portal_login_phone", accounts.account_phone(current)),
        )
        if over is not None:
            return _throttled(request, over)
        if password_form.is_valid():
            try:
                current = accounts.account_change_password(
                    account=current,
                    old_password=password_form.cleaned_data["old_password"],
                    new_password=password_form.cleaned_data["new_password"],
                )
            except DomainError as exc:
                password_form.add_domain_error(exc)
            else:
                accounts.session_login(request, current)  # this session stays, others end
                messages.success(request, "密码已修改，其他设备上的登录已退出。")
                return redirect("portal:account")
    group = request.GET.get("status", "")
    group = group if group in accounts.STATUS_GROUPS else ""
    paginator = Paginator(accounts.account_case_list(current, group), accounts.PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    context = {
        "account": current,
        "phone_masked": mask_phone(accounts.account_phone(current)),
        "rows": [accounts.case_row(case) for case in page.object_list],
        "page": page,
        "group": group,
        "groups": [("", "全部")] + [(k, v[0]) for k, v in accounts.STATUS_GROUPS.items()],
        "password_form": password_form,
    }
    return render_portal(request, "portal/account.html", context, nav="account")
