"""Forms of the reception pages: types and lengths only; the rules live in ``services.py``."""

from __future__ import annotations

from typing import Any

from django import forms

from xinfang.reception.models import VisitOutcome

TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CheckInForm(forms.Form):
    visitor_name = forms.CharField(label="来访人（可不填）", max_length=50, required=False)
    headcount = forms.IntegerField(label="人数", min_value=1, max_value=999, initial=1)
    note = forms.CharField(label="备注", max_length=300, required=False)


class FinishForm(forms.Form):
    outcome = forms.ChoiceField(
        label="接待结果",
        choices=[("", "— 请选择 —")]
        + [(k, v) for k, v in VisitOutcome.choices if k != VisitOutcome.REGISTERED],
    )
    note = forms.CharField(label="结果说明", max_length=300, required=False)


class DayForm(forms.Form):
    leader = forms.ChoiceField(label="接待领导")
    date = forms.DateField(label="日期", widget=DATE)
    start_time = forms.TimeField(label="开始时间", widget=TIME)
    end_time = forms.TimeField(label="结束时间", widget=TIME)
    place = forms.CharField(label="地点", max_length=100)
    topics = forms.CharField(label="接待主题", max_length=300, required=False)
    capacity = forms.IntegerField(label="预约名额（人）", min_value=1, max_value=500, initial=10)
    note = forms.CharField(label="说明", max_length=300, required=False)

    def __init__(self, *args: Any, leaders: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["leader"].choices = [("", "— 请选择 —")] + [  # type: ignore[attr-defined]
            (str(u.pk), u.get_full_name() or u.username) for u in leaders
        ]


class BookingForm(forms.Form):
    name = forms.CharField(label="信访人姓名", max_length=50, required=False)
    id_number = forms.CharField(label="身份证号", max_length=30, required=False)
    phone = forms.CharField(label="联系电话", max_length=30, required=False)
    case_number = forms.CharField(
        label="关联事项编号（可选）",
        max_length=40,
        required=False,
        help_text="已登记的事项：填编号即可，信访人取该事项的第一信访人",
    )
    topic = forms.CharField(label="反映事项", max_length=300)
    headcount = forms.IntegerField(label="人数", min_value=1, max_value=999, initial=1)


class LinkCaseForm(forms.Form):
    case_number = forms.CharField(label="事项编号", max_length=40)


class RecordForm(forms.Form):
    record = forms.CharField(
        label="领导意见/批示", max_length=4000, widget=forms.Textarea(attrs={"rows": 6})
    )
    attendees = forms.CharField(label="参加人员", max_length=300, required=False)


class OwnerForm(forms.Form):
    leader = forms.ChoiceField(label="包案领导")
    note = forms.CharField(label="说明", max_length=300, required=False)

    def __init__(self, *args: Any, leaders: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["leader"].choices = [  # type: ignore[attr-defined]
            (str(u.pk), u.get_full_name() or u.username) for u in leaders
        ]


class RosterForm(forms.Form):
    day = forms.DateField(label="日期", widget=DATE)
    leader = forms.ChoiceField(label="值班领导")
    note = forms.CharField(label="说明", max_length=100, required=False)

    def __init__(self, *args: Any, leaders: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["leader"].choices = [("", "— 请选择 —")] + [  # type: ignore[attr-defined]
            (str(u.pk), u.get_full_name() or u.username) for u in leaders
        ]
