"""Forms of the notify UI: the inbox filter and the 进展告知 panel."""

from __future__ import annotations

from django import forms

from xinfang.notify.models import MessageChannel
from xinfang.notify.petitioner import MAX_TEXT, STOCK_OPENINGS


class InboxFilterForm(forms.Form):
    state = forms.ChoiceField(
        label="状态",
        choices=[("unread", "未读"), ("all", "全部")],
        required=False,
    )
    kind = forms.CharField(label="类别", required=False, max_length=30)
    q = forms.CharField(label="搜索", required=False, max_length=100)


class ProgressNoticeForm(forms.Form):
    prefix = "pn"  # the case page has other forms with a "text" field
    opening = forms.ChoiceField(
        label="常用开头",
        choices=[("", "（不使用）"), *STOCK_OPENINGS],
        required=False,
    )
    text = forms.CharField(
        label="告知内容",
        required=False,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "可在常用开头后补充说明"}),
    )
    channel = forms.ChoiceField(
        label="发送渠道",
        choices=[
            (MessageChannel.PORTAL.value, MessageChannel.PORTAL.label),
            (MessageChannel.SMS.value, MessageChannel.SMS.label),
            (MessageChannel.LETTER.value, MessageChannel.LETTER.label),
        ],
        initial=MessageChannel.PORTAL.value,
    )
