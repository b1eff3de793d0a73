"""Forms of 领导批示: they parse and keep what was typed; the rules live in ``services``."""

from __future__ import annotations

from typing import Any

from django import forms

from xinfang.instructions.models import InstructionState
from xinfang.org.models import Unit

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATE_ERRORS = {"invalid": "请输入有效日期（年-月-日）", "required": "请填写落实期限"}


class InstructForm(forms.Form):
    text = forms.CharField(
        label="批示内容",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "请填写批示内容", "max_length": "批示内容过长"},
    )
    due_on = forms.DateField(label="落实期限", widget=DATE, error_messages=DATE_ERRORS)
    target_unit = forms.ChoiceField(label="落实单位")

    def __init__(self, *args: Any, units: list[Unit], **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "ins")
        super().__init__(*args, **kwargs)
        self.units = {str(u.pk): u for u in units}
        field = self.fields["target_unit"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(str(u.pk), u.name) for u in units]
        field.error_messages["invalid_choice"] = "请选择落实单位"

    def unit(self) -> Unit | None:
        return self.units.get(str(self.cleaned_data.get("target_unit")))


class ReportForm(forms.Form):
    text = forms.CharField(
        label="落实情况",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "请填写落实情况", "max_length": "落实情况过长"},
    )


class CloseForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("close", "办结"), ("send_back", "退回重报")],
        error_messages={"required": "请选择办结或退回", "invalid_choice": "请选择办结或退回"},
    )
    note = forms.CharField(
        label="意见",
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    due_on = forms.DateField(
        label="新的落实期限（退回时可改）",
        required=False,
        widget=DATE,
        error_messages={"invalid": "请输入有效日期（年-月-日）"},
    )


class InstructionFilterForm(forms.Form):
    STATE_CHOICES = [
        ("", "全部状态"),
        *InstructionState.choices,
        ("overdue", "超期"),
    ]
    q = forms.CharField(required=False, max_length=100)
    state = forms.ChoiceField(required=False, choices=STATE_CHOICES)
    unit = forms.IntegerField(required=False, min_value=1)
    mine = forms.BooleanField(required=False)
