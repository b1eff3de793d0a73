"""Forms of the 答复意见书 panel and of the 复查/复核 decisions (parse only; rules in services)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from xinfang.cases.models import ServeMethod
from xinfang.replies import boilerplate as B


def _area(label: str, rows: int = 4, required: bool = True, hint: str = "") -> forms.CharField:
    attrs: dict[str, Any] = {"rows": rows}
    if hint:
        attrs["placeholder"] = hint
    # Not required at the form level: the service names the missing part (field=part).
    return forms.CharField(label=label, widget=forms.Textarea(attrs=attrs), required=False)


class DraftForm(forms.Form):
    title = forms.CharField(label="标题", max_length=200, required=False)
    facts = _area("查明的事实")
    basis = _area("处理依据")
    decision = _area("处理意见")
    extra = _area("其他事项（可选）", rows=2)
    review_organ = forms.CharField(label="复查机关", max_length=100, required=False)

    def __init__(self, *args: Any, purpose: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        tpl = B.template_for(purpose)
        for part in tpl.parts:
            field = self.fields[part.field]
            field.label = part.heading
            field.widget.attrs["placeholder"] = part.placeholder


class RejectForm(forms.Form):
    reason = forms.CharField(
        label="退回理由", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )


class ServeForm(forms.Form):
    served_on = forms.DateField(
        label="送达日期",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        initial=dt.date.today,
    )
    method = forms.ChoiceField(label="送达方式", choices=ServeMethod.choices)


class ReviewDecisionForm(forms.Form):
    facts = _area("一、查明的事实", hint=B.REVIEW_PARTS[0].placeholder)
    basis = _area("二、依据", hint=B.REVIEW_PARTS[1].placeholder)
    decision = _area("三、意见", hint=B.REVIEW_PARTS[2].placeholder)
