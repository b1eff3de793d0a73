"""Forms of the 重点人员/群体 pages (parsing only; the rules live in ``keypersons``)."""

from __future__ import annotations

from typing import Any

from django import forms

from xinfang.prevention.models import ContactMethod

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATE_ERRORS = {"invalid": "请输入有效日期（年-月-日）", "required": "请填写日期"}


def _choices(rows: Any, empty: str) -> list[tuple[str, str]]:
    return [("", empty), *((str(r.pk), str(getattr(r, "name", "") or r)) for r in rows)]


class KeyFactsForm(forms.Form):
    """The facts shared by a key person and a key group (add and edit)."""

    reason = forms.CharField(
        label="列为重点的原因",
        max_length=200,
        error_messages={"required": "请填写列为重点的原因", "max_length": "原因不能超过200字"},
    )
    since = forms.DateField(label="起始日期", widget=DATE, error_messages=DATE_ERRORS)
    unit = forms.ChoiceField(label="责任单位", error_messages={"required": "请选择责任单位"})
    leader = forms.ChoiceField(label="包案领导", required=False)
    plan = forms.CharField(
        label="稳控/帮扶措施",
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"max_length": "稳控/帮扶措施不能超过4000字"},
    )
    review_on = forms.DateField(
        label="下次评估日期",
        required=False,
        widget=DATE,
        error_messages={"invalid": "请输入有效日期（年-月-日）"},
    )

    def __init__(self, *args: Any, units: Any, leaders: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.units = {str(u.pk): u for u in units}
        self.leaders = {str(u.pk): u for u in leaders}
        self.fields["unit"].choices = [  # type: ignore[attr-defined]
            ("", "请选择责任单位"),
            *((k, u.name) for k, u in self.units.items()),
        ]
        self.fields["leader"].choices = [  # type: ignore[attr-defined]
            ("", "（暂不指定）"),
            *((k, u.get_full_name() or u.username) for k, u in self.leaders.items()),
        ]

    def facts(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "reason": data["reason"],
            "since": data["since"],
            "unit": self.units.get(data["unit"]),
            "leader": self.leaders.get(data.get("leader") or ""),
            "plan": data.get("plan") or "",
            "review_on": data.get("review_on"),
        }


class KeyGroupForm(KeyFactsForm):
    headcount = forms.IntegerField(
        label="涉及人数",
        min_value=1,
        max_value=100000,
        error_messages={
            "required": "请填写涉及人数",
            "invalid": "涉及人数应为整数",
            "min_value": "涉及人数至少为1",
            "max_value": "涉及人数过大，请核实",
        },
    )


class ContactForm(forms.Form):
    method = forms.ChoiceField(
        label="方式", choices=ContactMethod.choices, error_messages={"required": "请选择联系方式"}
    )
    at = forms.DateTimeField(
        label="时间",
        required=False,
        widget=DATETIME,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        error_messages={"invalid": "请输入有效时间"},
    )
    note = forms.CharField(
        label="情况",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "请填写联系情况", "max_length": "联系情况不能超过2000字"},
    )


class RemoveForm(forms.Form):
    reason = forms.CharField(
        label="撤销原因",
        max_length=200,
        error_messages={"required": "请填写撤销原因", "max_length": "撤销原因不能超过200字"},
    )
