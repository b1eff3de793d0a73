from __future__ import annotations

from django import forms


class TokenForm(forms.Form):
    token = forms.CharField(
        label="验证码",
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
        error_messages={"required": "请输入验证码。"},
    )


class UnlockForm(forms.Form):
    username = forms.CharField(label="用户名", max_length=150, required=False)
    ip = forms.GenericIPAddressField(
        label="IP 地址",
        required=False,
        error_messages={"invalid": "请输入有效的 IP 地址。"},
    )

    def clean(self):  # type: ignore[no-untyped-def]
        data = super().clean() or {}
        if not data.get("username") and not data.get("ip"):
            raise forms.ValidationError("请指定要解除锁定的用户名或 IP 地址。")
        return data
