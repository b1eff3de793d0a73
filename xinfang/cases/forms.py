"""Forms for the staff UI. Forms only parse and shape input; rules live in the services."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone

from xinfang.cases.models import (
    Category,
    Channel,
    DeskPurpose,
    Evaluation,
    EvaluationChannel,
    Purpose,
    Status,
    VisitorType,
)
from xinfang.cases.selectors import CaseFilter
from xinfang.org.models import Unit
from xinfang.people.models import IdType, Sex
from xinfang.people.services import PetitionerInput


class PersonForm(forms.Form):
    name = forms.CharField(label="姓名", max_length=60, required=False)
    id_type = forms.ChoiceField(label="证件类型", choices=IdType.choices, initial=IdType.RESIDENT)
    id_number = forms.CharField(label="证件号码", max_length=40, required=False)
    phone = forms.CharField(label="联系电话", max_length=30, required=False)
    address = forms.CharField(label="住址", max_length=200, required=False)
    sex = forms.ChoiceField(label="性别", choices=Sex.choices, required=False)
    occupation = forms.CharField(label="职业", max_length=40, required=False)

    def to_input(self) -> PetitionerInput | None:
        d = self.cleaned_data
        if not d.get("name") and not d.get("id_number") and not d.get("phone"):
            return None
        return PetitionerInput(
            name=d.get("name") or "",
            id_type=d.get("id_type") or IdType.RESIDENT,
            id_number=d.get("id_number") or "",
            phone=d.get("phone") or "",
            address=d.get("address") or "",
            sex=d.get("sex") or "",
            occupation=d.get("occupation") or "",
        )


class DeskPersonForm(PersonForm):
    """A person row of the registration form: ``rep`` ticks a 集体访 representative (≤5; the
    un-ticked persons of a collective visit are recorded as 在场人员)."""

    rep = forms.BooleanField(label="代表", required=False)


PersonFormSet = forms.formset_factory(DeskPersonForm, extra=0, min_num=1, max_num=50)
RepresentativeFormSet = forms.formset_factory(PersonForm, extra=0, max_num=50)


def category_choices() -> list[tuple[str, str]]:
    rows = Category.objects.filter(is_active=True).order_by("sort", "id")
    return [("", "— 请选择 —")] + [(str(c.pk), ("　" * (c.level - 1)) + c.name) for c in rows]


class CaseRegisterForm(forms.Form):
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    channel = forms.ChoiceField(label="来源渠道", choices=Channel.choices)
    purpose = forms.ChoiceField(label="信访目的", choices=Purpose.choices)
    category = forms.ChoiceField(label="内容分类", required=False)
    received_at = forms.DateTimeField(
        label="收到时间",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
    )
    headcount = forms.IntegerField(label="人数", min_value=1, max_value=100000, initial=1)
    group_name = forms.CharField(label="群体名称", max_length=100, required=False)
    place_code = forms.CharField(label="问题属地代码", max_length=12, required=False)
    place_name = forms.CharField(label="属地详细", max_length=100, required=False)
    summary = forms.CharField(label="诉求摘要", max_length=300)
    content = forms.CharField(
        label="详细内容", widget=forms.Textarea(attrs={"rows": 5}), required=False
    )
    skip_level = forms.BooleanField(label="越级", required=False)
    accused_units = forms.TypedMultipleChoiceField(
        label="被检举控告单位",
        coerce=int,
        required=False,
        help_text="仅检举控告件；可多选（按住 Ctrl）",
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    accused_persons = forms.TypedMultipleChoiceField(
        label="被检举控告人（本系统工作人员）",
        coerce=int,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    accused_text = forms.CharField(
        label="其他被检举控告对象",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
        help_text="不在本系统中的单位或人员；与检举内容一同保密",
    )
    attachments = forms.FileField(
        label="附件",
        required=False,
        widget=forms.ClearableFileInput(attrs={"allow_multiple_selected": True}),
    )
    # The desk (xinfang.cases.desk): 分类接待, 终结 → 告知, 转介心理疏导, where the clerk came from.
    desk_purpose = forms.ChoiceField(
        label="来访目的（分类接待）",
        choices=[("", "未选"), *DeskPurpose.choices],
        required=False,
        widget=forms.RadioSelect,
    )
    visitor_type = forms.ChoiceField(
        label="来访人类型",
        choices=[("", "未选"), *VisitorType.choices],
        required=False,
        widget=forms.RadioSelect,
    )
    final_inform = forms.BooleanField(label="按终结事项告知，不予受理", required=False)
    final_seen = forms.IntegerField(
        widget=forms.HiddenInput, required=False, min_value=1, max_value=2**62
    )
    psych_referral = forms.BooleanField(label="转介心理疏导", required=False)
    psych_note = forms.CharField(
        label="疏导情况说明",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=1000,
    )
    related = forms.IntegerField(
        widget=forms.HiddenInput, required=False, min_value=1, max_value=2**62
    )
    visit = forms.IntegerField(
        widget=forms.HiddenInput, required=False, min_value=1, max_value=2**62
    )
    booking = forms.IntegerField(
        widget=forms.HiddenInput, required=False, min_value=1, max_value=2**62
    )

    def __init__(self, *args: Any, office: Unit | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = category_choices()  # type: ignore[attr-defined]
        if office is not None:
            from xinfang.cases.confidential import accused_choices

            units, persons = accused_choices(office)
            self.fields["accused_units"].choices = units  # type: ignore[attr-defined]
            self.fields["accused_persons"].choices = persons  # type: ignore[attr-defined]
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)
            self.initial.setdefault("received_at", timezone.localtime().strftime("%Y-%m-%dT%H:%M"))
        self.fields["attachments"].widget.attrs["multiple"] = True


def validate_upload(f: UploadedFile) -> str | None:
    """A Chinese error for a file we refuse, or None (checked before the case is registered,
    so a bad file never leaves a half-registered case)."""
    from xinfang.cases.attachments import check_upload
    from xinfang.core.errors import DomainError

    try:
        check_upload(f)
    except DomainError as exc:
        return exc.message
    return None


class CaseFilterForm(forms.Form):
    q = forms.CharField(label="搜索", required=False)
    status = forms.ChoiceField(
        label="状态", choices=[("", "全部状态"), *Status.choices], required=False
    )
    channel = forms.ChoiceField(
        label="渠道", choices=[("", "全部渠道"), *Channel.choices], required=False
    )
    purpose = forms.ChoiceField(
        label="目的", choices=[("", "全部目的"), *Purpose.choices], required=False
    )
    unit = forms.IntegerField(label="承办单位", required=False)
    category = forms.IntegerField(label="分类", required=False)
    place = forms.CharField(label="属地", required=False)
    date_from = forms.DateField(
        label="收到自",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        label="至",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    deadline = forms.ChoiceField(
        label="期限",
        choices=[
            ("", "全部期限"),
            ("overdue", "超期"),
            ("due_soon", "临期"),
            ("normal", "正常"),
            ("none", "无期限"),
        ],
        required=False,
    )
    flag = forms.ChoiceField(
        label="标记",
        choices=[
            ("", "全部标记"),
            ("repeat", "重复"),
            ("skip_level", "越级"),
            ("collective", "集体"),
            ("joint", "联名"),
        ],
        required=False,
    )

    def to_filter(self) -> CaseFilter:
        """The typed filter; invalid fields are dropped (the form shows their errors)."""
        d: dict[str, Any] = self.cleaned_data if self.is_valid() else {}
        return CaseFilter(
            q=d.get("q") or "",
            status=d.get("status") or "",
            channel=d.get("channel") or "",
            purpose=d.get("purpose") or "",
            unit=d.get("unit"),
            category=d.get("category"),
            place=d.get("place") or "",
            date_from=d.get("date_from"),
            date_to=d.get("date_to"),
            deadline=d.get("deadline") or "",
            flag=d.get("flag") or "",
        )


# --- action forms ------------------------------------------------------------------------


def _text(label: str, rows: int = 3, required: bool = True) -> forms.CharField:
    return forms.CharField(
        label=label, widget=forms.Textarea(attrs={"rows": rows}), required=required
    )


class RouteForm(forms.Form):
    unit = forms.ModelChoiceField(label="承办单位", queryset=Unit.objects.none())
    note = _text("交办/转送要求", required=False)

    def __init__(self, *args: Any, case: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if case is not None:
            from xinfang.cases.policy import routing_targets

            self.fields["unit"].queryset = routing_targets(case.office_unit, case)  # type: ignore[attr-defined]


class ReasonForm(forms.Form):
    reason = _text("理由")


class NoticeForm(forms.Form):
    notice_text = _text("告知书内容", rows=4)


class EmptyForm(forms.Form):
    pass


class ExtensionForm(forms.Form):
    days = forms.IntegerField(label="延长天数", min_value=1, max_value=365, initial=30)
    reason = _text("延期理由")


class ExtensionDecisionForm(forms.Form):
    approve = forms.TypedChoiceField(
        label="审批意见",
        choices=[("1", "批准延期"), ("0", "不批准")],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )
    note = _text("说明", required=False)


class EvaluationForm(forms.Form):
    evaluation = forms.ChoiceField(
        label="评价", choices=Evaluation.choices, widget=forms.RadioSelect
    )
    channel = forms.ChoiceField(
        label="评价渠道", choices=EvaluationChannel.choices, initial=EvaluationChannel.IN_PERSON
    )
    comment = _text("意见", required=False)


class NoteForm(forms.Form):
    note = _text("说明", required=False)


class TextForm(forms.Form):
    text = _text("内容")


class NoteAddForm(forms.Form):
    text = _text("备注或更正（不会修改已有记录，作为新的办理经过保存）", rows=2)


# --- 合并 / 转办 / 关联 / 调查 / 批量分流 (xinfang.cases.handling) --------------------------------


class MergeForm(forms.Form):
    into_number = forms.CharField(
        label="并入事项编号",
        max_length=40,
        help_text="本件作为重复事项并入该事项，由该事项继续办理",
        widget=forms.TextInput(attrs={"placeholder": "XF-…"}),
    )
    note = _text("合并说明", rows=2, required=False)


class TransferForm(forms.Form):
    unit = forms.ModelChoiceField(label="转办至", queryset=Unit.objects.none())
    reason = _text("转办理由")

    def __init__(self, *args: Any, case: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if case is not None:
            from xinfang.cases.policy import routing_targets

            qs = routing_targets(case.office_unit, case)
            if case.handling_unit_id:
                qs = qs.exclude(pk=case.handling_unit_id)
            self.fields["unit"].queryset = qs  # type: ignore[attr-defined]


class LinkForm(forms.Form):
    other_number = forms.CharField(
        label="关联事项编号", max_length=40, widget=forms.TextInput(attrs={"placeholder": "XF-…"})
    )
    note = forms.CharField(label="关联说明", max_length=300, required=False)


class InvestigationForm(forms.Form):
    text = _text("调查情况（走访、约谈、现场核查等；仅内部可见）", rows=3)


class EvidenceForm(forms.Form):
    file = forms.FileField(label="证据材料")
    note = forms.CharField(label="说明", max_length=500, required=False)


class BulkRouteForm(forms.Form):
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)
    code = forms.ChoiceField(
        label="分流方式", choices=[("assign", "交办"), ("forward", "转送")], initial="assign"
    )
    unit = forms.ModelChoiceField(label="承办单位", queryset=Unit.objects.none())
    note = _text("交办/转送要求", rows=2, required=False)
    ids = forms.TypedMultipleChoiceField(label="事项", coerce=int, required=False)

    def __init__(self, *args: Any, offices: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from xinfang.cases.policy import routing_targets

        qs = Unit.objects.none()
        for office in offices:
            qs = qs | routing_targets(office)
        self.fields["unit"].queryset = qs.distinct().order_by("path")  # type: ignore[attr-defined]
        if self.is_bound:
            # Any id the user ticked: the service checks each against the user's view.
            self.fields["ids"].choices = [  # type: ignore[attr-defined]
                (v, v)
                for v in self.data.getlist("ids")  # type: ignore[attr-defined]
                if str(v).isdigit()
            ]
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)
