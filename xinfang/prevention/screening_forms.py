"""Forms of 排查轮次: the round filters and the unit's report (repeatable new-item rows and a
情况变化 box per open dispute). They parse and keep what was typed; rules live in ``screening``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.http import QueryDict

from xinfang.cases.models import Category
from xinfang.org.models import Unit
from xinfang.prevention.models import Cadence, RiskLevel, ScreeningRule
from xinfang.prevention.screening import NewItem

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
ROW_FIELDS = (
    "title",
    "parties",
    "headcount",
    "place_unit",
    "category",
    "risk_level",
    "description",
)
MAX_ROWS = 50


class RoundFilterForm(forms.Form):
    q = forms.CharField(label="搜索", required=False, max_length=60)
    rule = forms.ChoiceField(label="排查规则", required=False)
    cadence = forms.ChoiceField(
        label="周期", required=False, choices=[("", "全部周期"), *Cadence.choices]
    )
    start = forms.DateField(
        label="周期起", required=False, widget=DATE, error_messages={"invalid": "请输入有效日期"}
    )
    end = forms.DateField(
        label="周期止", required=False, widget=DATE, error_messages={"invalid": "请输入有效日期"}
    )
    late = forms.BooleanField(label="仅有逾期单位的轮次", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        rule_field = self.fields["rule"]
        assert isinstance(rule_field, forms.ChoiceField)
        rule_field.choices = [("", "全部规则")] + [
            (str(r.pk), r.name) for r in ScreeningRule.objects.order_by("priority", "id")
        ]


@dataclass
class Row:
    """One new-item row as typed (strings), with its errors."""

    index: int
    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)

    def blank(self) -> bool:
        # Selects carry a default (place, risk); a row is blank when nothing was typed.
        return not any(
            (self.values.get(k) or "").strip() for k in ("title", "parties", "description")
        )


@dataclass
class ReportInput:
    """What the report form carries: rows and changes as typed, and the parse errors."""

    nothing_new: bool = False
    note: str = ""
    rows: list[Row] = field(default_factory=list)
    changes: dict[int, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    items: list[NewItem] = field(default_factory=list)

    @classmethod
    def empty(cls, rows: int = 1) -> ReportInput:
        return cls(rows=[_blank_row(i) for i in range(rows)])

    @classmethod
    def from_post(
        cls, data: QueryDict, *, places: list[Unit], dispute_ids: list[int]
    ) -> ReportInput:
        form = cls(
            nothing_new=data.get("nothing_new") in ("on", "1", "true"),
            note=data.get("note", ""),
        )
        try:
            count = max(1, min(MAX_ROWS, int(data.get("n-count", "1"))))
        except ValueError:
            count = 1
        for i in range(count):
            values = {k: data.get(f"n-{i}-{k}", "") for k in ROW_FIELDS}
            form.rows.append(Row(i, values))
        for pk in dispute_ids:
            text = data.get(f"change-{pk}", "")
            if text:
                form.changes[pk] = text
        form._parse_rows({str(u.pk): u for u in places})
        return form

    def _parse_rows(self, places: dict[str, Unit]) -> None:
        for row in self.rows:
            if row.blank():
                continue
            v = row.values
            try:
                headcount = int(v.get("headcount") or "1")
                if headcount < 1:
                    raise ValueError
            except ValueError:
                row.errors["headcount"] = "涉及人数应为不小于1的整数"
                headcount = 1
            place = places.get(v.get("place_unit", ""))
            if v.get("place_unit") and place is None:
                row.errors["place_unit"] = "请选择本单位或下属单位作为发生地"
            if v.get("risk_level") not in RiskLevel.values:
                row.errors["risk_level"] = "请选择风险等级"
            category = None
            if v.get("category"):
                category = (
                    Category.objects.filter(pk=v["category"]).first()
                    if v["category"].isdigit()
                    else None
                )
                if category is None:
                    row.errors["category"] = "所选纠纷类别不存在"
            self.items.append(
                NewItem(
                    title=v.get("title", ""),
                    parties=v.get("parties", ""),
                    description=v.get("description", ""),
                    risk_level=v.get("risk_level", ""),
                    place_unit=place,
                    headcount=headcount,
                    category=category,
                )
            )
            row.values["_item"] = str(len(self.items) - 1)
        if any(r.errors for r in self.rows):
            self.errors["rows"] = "新发现的矛盾纠纷有填写错误，请按提示修改"

    def add_row(self) -> None:
        if len(self.rows) < MAX_ROWS:
            self.rows.append(_blank_row(len(self.rows)))

    def place_error(self, service_field: str, message: str) -> None:
        """Put a service error on the right place: ``n-<item>-<field>`` names the item among the
        non-blank rows; map it back to the row as shown."""
        if service_field.startswith("n-"):
            _, item, name = service_field.split("-", 2)
            for row in self.rows:
                if row.values.get("_item") == item:
                    row.errors[name if name in ROW_FIELDS else "title"] = message
                    return
        if service_field.startswith("change-"):
            self.errors[service_field] = message
            return
        self.errors[service_field or "nothing_new"] = message


def _blank_row(i: int) -> Row:
    values = dict.fromkeys(ROW_FIELDS, "")
    values["headcount"] = "1"
    return Row(i, values)
