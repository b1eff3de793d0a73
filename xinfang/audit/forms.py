from __future__ import annotations

from django import forms

from xinfang.audit.selectors import AuditFilter
from xinfang.audit.services import ACTIONS


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(
        label="操作", required=False, choices=[("", "全部操作"), *ACTIONS.items()]
    )
    actor = forms.CharField(label="操作人", required=False, max_length=150)
    object_type = forms.CharField(label="对象类型", required=False, max_length=40)
    object_id = forms.CharField(label="对象ID", required=False, max_length=64)
    date_from = forms.DateField(
        label="起始日期", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="截止日期", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    q = forms.CharField(label="摘要关键词", required=False, max_length=100)

    def clean(self):  # type: ignore[no-untyped-def]
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "截止日期不能早于起始日期")
        return data

    def to_filter(self) -> AuditFilter:
        """The valid fields only: an invalid one is shown with its message and ignored."""
        if not self.is_bound:
            return AuditFilter()
        self.is_valid()
        data = getattr(self, "cleaned_data", {}) or {}
        return AuditFilter(
            action=data.get("action") or "",
            actor=(data.get("actor") or "").strip(),
            object_type=(data.get("object_type") or "").strip(),
            object_id=(data.get("object_id") or "").strip(),
            date_from=data.get("date_from"),
            date_to=data.get("date_to") if "date_to" not in self.errors else None,
            q=(data.get("q") or "").strip(),
        )
