"""Forms of the citizen account pages (account_views.py). The rules are in accounts.py; these
only carry the typed values and put errors where the templates link them (aria-describedby,
aria-invalid)."""

from __future__ import annotations

from typing import Any

from django import forms

from xinfang.core.errors import DomainError
from xinfang.portal import accounts


class PortalForm(forms.Form):
    """A form whose widgets say which text describes them: ``<id>-hint`` for help text and
    ``<id>-error`` once the field has an error (with ``aria-invalid``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if field.help_text:
                field.widget.attrs["aria-describedby"] = f"{self[name].auto_id}-hint"

    def full_clean(self) -> None:
        super().full_clean()
        self._mark_errors()

    def add_domain_error(self, exc: DomainError) -> None:
        """A service's error on its field, or on the form when the field is not shown."""
        name = exc.field if exc.field in self.fields else None
        if name is not None and isinstance(self.fields[name].widget, forms.HiddenInput):
            name = None
        self.add_error(name, exc.message)
        self._mark_errors()

    def _mark_errors(self) -> None:
        for name, field in self.fields.items():
            if name not in self.errors or isinstance(field.widget, forms.HiddenInput):
                continue
            base = self[name].auto_id
            ids = [f"{base}-error"] + ([f"{base}-hint"] if field.help_text else [])
            field.widget.attrs["aria-describedby"] = " ".join(ids)
            field.widget.attrs["aria-invalid"] = "true"


def _phone_field(hidden: bool = False) -> forms.CharField:
    if hidden:
        return forms.CharField(widget=forms.HiddenInput, max_length=40)
    return forms.CharField(
        label="手机号码",
        max_length=40,
        error_messages={"required": "请填写手机号码"},
        widget=forms.TextInput(
            attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel", "maxlength": "40"}
        ),
    )


def _password_field(label: str, autocomplete: str, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        strip=False,
        max_length=accounts.PASSWORD_MAX_LENGTH,
        help_text=help_text,
        error_messages={
            "required": f"请填写{label}",
            "max_length": f"密码最多{accounts.PASSWORD_MAX_LENGTH}个字符",
        },
        widget=forms.PasswordInput(attrs={"autocomplete": autocomplete}),
    )


NEW_PASSWORD_HELP = "至少8个字符，不能全是数字，不能是常见密码或包含手机号码。"


class PhoneForm(PortalForm):
    """Step 1 of registration and reset: the mobile number the code goes to."""

    phone = _phone_field()

    def clean_phone(self) -> str:
        try:
            return accounts.mobile(self.cleaned_data["phone"])
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from None


class CodeForm(PortalForm):
    """Step 2 of registration and reset: the code, the (new) password twice."""

    phone = _phone_field(hidden=True)
    code = forms.CharField(
        label="短信验证码",
        max_length=12,
        help_text=(
            f"短信中的{accounts.CODE_DIGITS}位数字，{accounts.CODE_TTL.seconds // 60}分钟内有效。"
        ),
        error_messages={"required": "请填写短信验证码"},
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": "12"}
        ),
    )
    password = _password_field("密码", "new-password", NEW_PASSWORD_HELP)
    password2 = _password_field("再次输入密码", "new-password")

    def clean_phone(self) -> str:
        try:
            return accounts.mobile(self.cleaned_data["phone"])
        except DomainError:
            raise forms.ValidationError("手机号码无效，请返回重新填写手机号码") from None

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split())
        if not (len(code) == accounts.CODE_DIGITS and code.isdigit()):
            raise forms.ValidationError(f"请填写短信中的{accounts.CODE_DIGITS}位数字验证码")
        return code

    def clean_password(self) -> str:
        password: str = self.cleaned_data["password"]
        try:
            accounts.check_new_password(password, phone=self.cleaned_data.get("phone", ""))
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from None
        return password

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, second = data.get("password"), data.get("password2")
        if first and second and first != second:
            self.add_error("password2", "两次输入的密码不一致")
        return data


class RegisterForm(CodeForm):
    name = forms.CharField(
        label="称呼（选填）",
        required=False,
        max_length=accounts.NAME_MAX_LENGTH,
        help_text="如“王女士”，只用于页面上的问候。",
        widget=forms.TextInput(attrs={"autocomplete": "nickname"}),
    )


class LoginForm(PortalForm):
    phone = _phone_field()
    password = _password_field("密码", "current-password")

    def clean_phone(self) -> str:
        try:
            return accounts.mobile(self.cleaned_data["phone"])
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from None


class ChangePasswordForm(PortalForm):
    old_password = _password_field("原密码", "current-password")
    new_password = _password_field("新密码", "new-password", NEW_PASSWORD_HELP)
    new_password2 = _password_field("再次输入新密码", "new-password")

    def clean_new_password(self) -> str:
        password: str = self.cleaned_data["new_password"]
        try:
            accounts.check_new_password(password, field="new_password")
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from None
        return password

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, second = data.get("new_password"), data.get("new_password2")
        if first and second and first != second:
            self.add_error("new_password2", "两次输入的新密码不一致")
        return data
