"""Forms of the 预警 pages (filters, acknowledge, close, assign)."""

from __future__ import annotations

from django import forms

from xinfang.prevention.models import AlertState, Severity
from xinfang.prevention.seeds import WARNING_RULES

RULE_CHOICES = [("", "全部规则"), *[(code, name) for code, name, *_ in WARNING_RULES]]


class AlertFilterForm(forms.Form):
    q = forms.CharField(label="搜索", required=False, max_length=100)
    state = forms.ChoiceField(
        label="状态",
        choices=[("", "全部状态"), ("active", "未办结"), *AlertState.choices],
        required=False,
    )
    severity = forms.ChoiceField(
        label="级别", choices=[("", "全部级别"), *Severity.choices], required=False
    )
    rule = forms.ChoiceField(label="规则", choices=RULE_CHOICES, required=False)
    unit = forms.IntegerField(label="涉及单位", required=False, min_value=1)
    date_from = forms.DateField(
        label="预警自",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        label="至",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    mine = forms.BooleanField(label="仅我负责的", required=False)


class AckForm(forms.Form):
    note = forms.CharField(
        label="确认说明（可空）",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class CloseForm(forms.Form):
    outcome = forms.CharField(
        label="处置结果",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "请填写处置结果"},
    )


class AssignForm(forms.Form):
    owner = forms.TypedChoiceField(
        label="新负责人", coerce=int, choices=[], error_messages={"required": "请选择负责人"}
    )

    def __init__(self, *args: object, owners: list[object] | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["owner"].choices = [("", "请选择")] + [  # type: ignore[attr-defined]
            (u.pk, u.get_full_name() or u.username)  # type: ignore[attr-defined]
            for u in owners or []
        ]


class ForecastForm(forms.Form):
    week = forms.CharField(label="周次", required=False, max_length=10)
    unit = forms.IntegerField(label="单位", required=False, min_value=1)
