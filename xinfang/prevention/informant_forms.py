"""Forms of the 信息员 pages: the network (add/end), the report list filters, handling, and the
informant's phone form. Rules live in ``informants.py``; these only parse."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms

from xinfang.prevention.models import (
    InformantReportState,
    RiskLevel,
    Signal,
    Urgency,
)

DT_INPUT = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]


class InformantAddForm(forms.Form):
    username = forms.CharField(
        label="用户名",
        max_length=150,
        error_messages={"required": "请填写信息员的登录用户名"},
    )
    unit = forms.IntegerField(
        label="所在村（社区）/单位", min_value=1, error_messages={"required": "请选择单位"}
    )
    phone = forms.CharField(label="联系电话", max_length=20, required=False)
    since = forms.DateField(
        label="聘任日期", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    note = forms.CharField(label="备注", max_length=200, required=False)


class InformantEndForm(forms.Form):
    informant = forms.IntegerField(min_value=1)
    reason = forms.CharField(
        label="解聘原因", max_length=200, error_messages={"required": "请填写解聘原因"}
    )


class InformantFilterForm(forms.Form):
    STAFFED = [("", "全部"), ("none", "未配备信息员"), ("yes", "已配备")]
    q = forms.CharField(required=False, max_length=100)
    staffed = forms.ChoiceField(required=False, choices=STAFFED)
    community = forms.BooleanField(required=False)


class ReportFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=100)
    urgency = forms.ChoiceField(required=False, choices=[("", "全部类别"), *Urgency.choices])
    signal = forms.ChoiceField(required=False, choices=[("", "全部情形"), *Signal.choices])
    state = forms.ChoiceField(
        required=False, choices=[("", "全部状态"), *InformantReportState.choices]
    )
    unit = forms.IntegerField(required=False, min_value=1)
    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))


class NoteForm(forms.Form):
    text = forms.CharField(
        label="处置情况",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "请填写处置情况"},
    )


class CloseForm(forms.Form):
    outcome = forms.CharField(
        label="处置结果",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "请填写处置结果"},
    )


class DisputeFromReportForm(forms.Form):
    title = forms.CharField(
        label="纠纷名称", max_length=100, error_messages={"required": "请填写纠纷名称"}
    )
    parties = forms.CharField(
        label="当事人（每行一方）",
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "请填写当事人（每行一方）"},
    )
    description = forms.CharField(
        label="基本情况",
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "请填写纠纷的基本情况"},
    )
    risk_level = forms.ChoiceField(label="风险等级", choices=RiskLevel.choices)
    unit = forms.IntegerField(label="责任单位", min_value=1)
    headcount = forms.IntegerField(label="涉及人数", min_value=1, initial=1)
    due_on = forms.DateField(
        label="化解期限（留空按风险等级默认）",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class MobileReportForm(forms.Form):
    """The phone form. ``client_key`` is drawn when the form is shown: a double tap or a resent
    post carries the same key and gets the first report back."""

    client_key = forms.CharField(max_length=64, widget=forms.HiddenInput)
    urgency = forms.ChoiceField(
        label="报告类别",
        choices=Urgency.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "请选择日常报告或紧急报告"},
    )
    signal = forms.ChoiceField(
        label="紧急情形（紧急报告必选）",
        choices=Signal.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    unit = forms.IntegerField(
        label="涉及村（社区）/单位", min_value=1, error_messages={"required": "请选择单位"}
    )
    title = forms.CharField(
        label="标题（一句话）",
        max_length=100,
        error_messages={"required": "请填写标题（一句话说明情况）"},
    )
    text = forms.CharField(
        label="具体情况",
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "请填写具体情况（人员、起因、诉求等）"},
    )
    headcount = forms.IntegerField(
        label="预计人数",
        required=False,
        min_value=1,
        max_value=100000,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={"invalid": "预计人数请填写数字", "min_value": "预计人数至少为1"},
    )
    expected_at = forms.DateTimeField(
        label="预计时间",
        required=False,
        input_formats=DT_INPUT,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={"invalid": "预计时间格式不正确"},
    )
    place_text = forms.CharField(label="地点", max_length=200, required=False)
    destination = forms.CharField(
        label="去向（如赴区、赴市、进京）", max_length=100, required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound and not self.initial.get("client_key"):
            self.initial["client_key"] = uuid.uuid4().hex
