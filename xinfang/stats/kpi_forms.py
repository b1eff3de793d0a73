"""Forms of the 考核 pages: the period/scope bar, the scheme (weights, grades, 一票否决 rules), a
一票否决 record and its revocation. Chinese messages; the services check the rules again."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms

from xinfang.stats import kpi
from xinfang.stats.periods import Period

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATE_ERRORS = {"invalid": "请输入有效日期，格式如 2026-01-31", "required": "请填写日期"}


def default_period(today: dt.date) -> Period:
    return Period.month(today.year, today.month)


class PeriodForm(forms.Form):
    """``?unit=&start=&end=`` of the KPI page (the unit is checked by ``policy.scope_unit``)."""

    start = forms.DateField(label="起", required=False, widget=DATE, error_messages=DATE_ERRORS)
    end = forms.DateField(label="止", required=False, widget=DATE, error_messages=DATE_ERRORS)

    def period(self, today: dt.date) -> Period | None:
        """The chosen period (default: this month), or None with the errors on the form."""
        if not self.is_valid():
            return None
        start, end = self.cleaned_data.get("start"), self.cleaned_data.get("end")
        if not start and not end:
            return default_period(today)
        if not start or not end:
            self.add_error("start" if not start else "end", "请同时填写开始和结束日期")
            return None
        if end < start:
            self.add_error("end", "结束日期不能早于开始日期")
            return None
        if (end - start).days > 366 * 3:
            self.add_error("end", "统计期最长3年")
            return None
        return Period.parse(start.isoformat(), end.isoformat())


_LINE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_]{1,39})\s*[|｜]\s*(\S.{1,99})\s*$")


def parse_veto_rules(text: str) -> list[dict[str, str]]:
    """One rule a line: ``代码|说明`` (代码: letters, digits, _). Raises ValidationError naming
    the line."""
    rules: list[dict[str, str]] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        m = _LINE.match(line)
        if m is None:
            raise forms.ValidationError(
                f"第{n}行格式不正确：应为「代码|说明」，代码以字母开头，"
                f"如 abnormal_visit|发生进京非正常上访"
            )
        rules.append({"code": m.group(1), "label": m.group(2).strip()})
    codes = [r["code"] for r in rules]
    dup = sorted({c for c in codes if codes.count(c) > 1})
    if dup:
        raise forms.ValidationError(f"代码重复：{'、'.join(dup)}")
    return rules


def veto_rules_text(rules: list[dict[str, Any]]) -> str:
    return "\n".join(f"{r.get('code')}|{r.get('label')}" for r in rules)


class SchemeForm(forms.Form):
    zero = forms.ChoiceField(
        label="分母为零时",
        choices=list(kpi.ZERO_POLICIES.items()),
        error_messages={"invalid_choice": "请选择分母为零时的计分方式"},
    )
    grade_excellent = forms.IntegerField(label="优秀（不低于）", min_value=0, max_value=100)
    grade_good = forms.IntegerField(label="良好（不低于）", min_value=0, max_value=100)
    grade_pass = forms.IntegerField(label="合格（不低于）", min_value=0, max_value=100)
    veto_rules = forms.CharField(
        label="一票否决情形（每行一条：代码|说明）",
        widget=forms.Textarea(attrs={"rows": 5, "cols": 70}),
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for k in kpi.KPIS:
            self.fields[k.code] = forms.IntegerField(
                label=k.name,
                min_value=0,
                max_value=100,
                help_text=k.formula,
                error_messages={
                    "required": f"请填写「{k.name}」的权重（0至100，不计分填0）",
                    "invalid": f"「{k.name}」的权重应为整数",
                    "min_value": f"「{k.name}」的权重不能小于0",
                    "max_value": f"「{k.name}」的权重不能大于100",
                },
            )
        for name in ("grade_excellent", "grade_good", "grade_pass"):
            label = self.fields[name].label
            self.fields[name].error_messages.update(
                {
                    "required": f"请填写{label}的分数线",
                    "invalid": f"{label}的分数线应为整数",
                    "min_value": f"{label}的分数线不能小于0",
                    "max_value": f"{label}的分数线不能大于100",
                }
            )

    @property
    def weight_fields(self) -> list[Any]:
        return [self[k.code] for k in kpi.KPIS]

    @classmethod
    def initial_of(cls, scheme: Any) -> dict[str, Any]:
        a, b, c = kpi.grades_of(scheme)
        return {
            **kpi.weights_of(scheme),
            "zero": kpi.zero_policy(scheme),
            "grade_excellent": a,
            "grade_good": b,
            "grade_pass": c,
            "veto_rules": veto_rules_text(scheme.veto_rules or []),
        }

    def clean_veto_rules(self) -> list[dict[str, str]]:
        return parse_veto_rules(self.cleaned_data.get("veto_rules") or "")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        weights = [data.get(k.code) for k in kpi.KPIS]
        if all(w is not None for w in weights) and sum(w or 0 for w in weights) <= 0:
            raise forms.ValidationError("权重之和须大于0：至少为一项指标设置权重")
        grades = [data.get(n) for n in ("grade_excellent", "grade_good", "grade_pass")]
        if all(g is not None for g in grades):
            a, b, c = grades
            if not (a > b > c):  # type: ignore[operator]
                self.add_error("grade_good", "等次分数线应满足 优秀 > 良好 > 合格")
        return data


class VetoForm(forms.Form):
    unit = forms.TypedChoiceField(
        label="单位", coerce=int, error_messages={"invalid_choice": "请选择您统计范围内的单位"}
    )
    code = forms.ChoiceField(label="情形", error_messages={"invalid_choice": "请选择一票否决情形"})
    period_start = forms.DateField(label="考核期起", widget=DATE, error_messages=DATE_ERRORS)
    period_end = forms.DateField(label="考核期止", widget=DATE, error_messages=DATE_ERRORS)
    reason = forms.CharField(
        label="事实与依据",
        min_length=10,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 70}),
        error_messages={
            "required": "请写明事实与依据（不少于10个字）",
            "min_length": "请写明事实与依据（不少于10个字）",
        },
    )
    case_number = forms.CharField(label="关联事项编号（可选）", required=False, max_length=40)

    def __init__(self, *args: Any, units: list[Any], rules: dict[str, str], **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.fields["unit"].choices = [("", "请选择单位"), *((u.pk, u.name) for u in units)]  # type: ignore[attr-defined]
        self.fields["code"].choices = [("", "请选择情形"), *rules.items()]  # type: ignore[attr-defined]
        for name in ("unit", "code"):
            self.fields[name].error_messages["required"] = (
                "请选择单位" if name == "unit" else "请选择一票否决情形"
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        a, b = data.get("period_start"), data.get("period_end")
        if a and b and b < a:
            self.add_error("period_end", "结束日期不能早于开始日期")
        return data


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label="撤销理由",
        min_length=4,
        max_length=1000,
        error_messages={
            "required": "请填写撤销理由（不少于4个字）",
            "min_length": "请填写撤销理由（不少于4个字）",
        },
    )
