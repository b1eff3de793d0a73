"""Forms of the follow-up pages: parse and shape only; the rules are in the services."""

from __future__ import annotations

from typing import Any

from django import forms

from xinfang.followup.hearings import VoteInput
from xinfang.followup.models import FollowUpMethod, FollowUpResult, Hearing, HearingMember, Vote


def _text(label: str, rows: int = 3, required: bool = True) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


class SmsReplyForm(forms.Form):
    sms_text = forms.CharField(
        label="信访人短信回复",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "如：3 问题没有解决"}),
        help_text="回复 1 满意、2 基本满意、3 不满意，或直接写“满意/基本满意/不满意”及意见",
    )


class TaskCloseForm(forms.Form):
    outcome = _text("处理结果")


class FollowUpRecordForm(forms.Form):
    method = forms.ChoiceField(label="回访方式", choices=FollowUpMethod.choices)
    result = forms.ChoiceField(
        label="回访结果", choices=FollowUpResult.choices, widget=forms.RadioSelect
    )
    outcome = _text("回访情况")


class HearingScheduleForm(forms.Form):
    scheduled_at = forms.DateTimeField(
        label="听证时间",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    place = forms.CharField(label="地点", max_length=200)
    members = forms.TypedMultipleChoiceField(
        label="听证员（3–9人，单数）", coerce=int, widget=forms.CheckboxSelectMultiple
    )
    parties = _text("参加人（信访人、承办单位等）", rows=2, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        pool = HearingMember.objects.filter(is_active=True).order_by("kind", "name", "id")
        members = self.fields["members"]
        assert isinstance(members, forms.ChoiceField)
        members.choices = [
            (
                m.pk,
                f"{m.name}（{m.get_kind_display()}{'·' + m.affiliation if m.affiliation else ''}）",
            )
            for m in pool
        ]


class HearingRecordForm(forms.Form):
    record = _text("听证记录", rows=4)

    def __init__(self, *args: Any, hearing: Hearing, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.members = list(hearing.members.all().order_by("kind", "name", "id"))
        for m in self.members:
            self.fields[f"vote_{m.pk}"] = forms.ChoiceField(
                label=f"{m.name}（{m.get_kind_display()}）",
                choices=Vote.choices,
                widget=forms.RadioSelect,
            )
            self.fields[f"opinion_{m.pk}"] = forms.CharField(
                label=f"{m.name}的意见", required=False, max_length=1000
            )

    def votes(self) -> list[VoteInput]:
        d = self.cleaned_data
        return [
            VoteInput(member_id=m.pk, vote=d[f"vote_{m.pk}"], opinion=d.get(f"opinion_{m.pk}", ""))
            for m in self.members
        ]

    def vote_rows(self) -> list[tuple[Any, Any]]:
        return [(self[f"vote_{m.pk}"], self[f"opinion_{m.pk}"]) for m in self.members]
