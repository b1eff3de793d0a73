"""Forms of the 矛盾纠纷排查台账: they parse and keep what was typed; the rules live in
``services`` (a ``DomainError`` lands on the field it names)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from xinfang.cases.models import Category
from xinfang.org import roles as R
from xinfang.org.models import Unit
from xinfang.org.policy import posts_of
from xinfang.prevention.models import ContactMethod, DisputeSource, DisputeState, RiskLevel
from xinfang.prevention.policy import scope_ids

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
BAD_DATE = {"invalid": "请输入有效日期（年-月-日）"}

SIGNALS: list[tuple[str, str]] = [
    ("capital_signal", "有进京、赴省上访或到重要场所聚集的苗头"),
    ("extreme_signal", "可能危及人身安全或发生个人极端行为"),
    ("collective_signal", "有到区及以上集体上访的苗头"),
    ("key_subject", "涉及重点人员、重点群体"),
    ("already_petitioned", "当事人已经信访或表示将要信访"),
    ("repeated", "矛盾已激化或同一事项已多次信访"),
]


class UnitChoice(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class UserChoice(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        units = "、".join(sorted({m.unit.name for m in obj.memberships.all()}))
        return f"{obj.get_full_name() or obj.username}（{units}）"


class CategoryChoice(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.full_name or obj.name)


def scope_units(user: Any) -> QuerySet[Unit]:
    return Unit.objects.filter(pk__in=scope_ids(user), is_active=True).order_by("path")


def owner_choices(user: Any) -> QuerySet[Any]:
    """Staff of the units in the user's scope (the service checks the responsible unit)."""
    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            memberships__unit_id__in=scope_ids(user),
            memberships__role__code__in=[R.HANDLER, R.UNIT_HEAD, R.CASE_OFFICER, R.LEADER],
        )
        .distinct()
        .prefetch_related("memberships__unit")
        .order_by("first_name", "username")
    )


def leader_choices(user: Any) -> QuerySet[Any]:
    """领导 in the user's scope or in a unit above one of the user's posts."""
    above: set[str] = set()
    for p in posts_of(user):
        path = p.unit_path
        above.update(path[:i] for i in range(7, len(path) + 1, 7))
    cond = Q(memberships__unit_id__in=scope_ids(user)) | Q(memberships__unit__path__in=above)
    return (
        get_user_model()
        .objects.filter(cond, is_active=True, memberships__role__code=R.LEADER)
        .distinct()
        .prefetch_related("memberships__unit")
        .order_by("first_name", "username")
    )


def categories() -> QuerySet[Category]:
    return Category.objects.filter(is_active=True).order_by("full_name")


class DisputeForm(forms.Form):
    """Register (``new=True``) or edit an item."""

    title = forms.CharField(
        label="纠纷名称",
        max_length=100,
        error_messages={"required": "请填写纠纷名称", "max_length": "纠纷名称不能超过100字"},
    )
    source = forms.ChoiceField(
        label="来源",
        choices=[("", "请选择"), *DisputeSource.choices],
        error_messages={"required": "请选择纠纷来源", "invalid_choice": "请选择纠纷来源"},
    )
    source_note = forms.CharField(label="来源说明", max_length=200, required=False)
    description = forms.CharField(
        label="基本情况",
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "请填写纠纷的基本情况"},
    )
    parties = forms.CharField(
        label="当事人",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="每行一方：姓名/单位及联系方式",
        error_messages={"required": "请填写当事人（每行一方）"},
    )
    headcount = forms.IntegerField(
        label="涉及人数",
        min_value=1,
        max_value=100000,
        initial=1,
        error_messages={
            "required": "请填写涉及人数",
            "invalid": "涉及人数应为整数",
            "min_value": "涉及人数至少为1",
            "max_value": "涉及人数过大",
        },
    )
    place_unit = UnitChoice(
        label="发生地（村/社区）",
        queryset=Unit.objects.none(),
        empty_label="请选择",
        error_messages={"required": "请选择发生地", "invalid_choice": "请选择发生地"},
    )
    place_text = forms.CharField(label="具体地点", max_length=200, required=False)
    category = CategoryChoice(
        label="纠纷类别",
        queryset=Category.objects.none(),
        required=False,
        empty_label="未分类",
        error_messages={"invalid_choice": "请选择有效的纠纷类别"},
    )
    signals = forms.MultipleChoiceField(
        label="风险情形（用于评定建议）",
        choices=SIGNALS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    risk_level = forms.ChoiceField(
        label="风险等级",
        choices=[("", "请选择"), *RiskLevel.choices],
        error_messages={"required": "请选择风险等级", "invalid_choice": "请选择风险等级"},
    )
    reason = forms.CharField(
        label="风险等级说明",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="低于评定标准建议等级时必填（至少5个字）；修改等级时记入动态",
    )
    unit = UnitChoice(
        label="责任单位",
        queryset=Unit.objects.none(),
        empty_label="请选择",
        error_messages={"required": "请选择责任单位", "invalid_choice": "请选择责任单位"},
    )
    owner = UserChoice(
        label="责任人",
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label="未指定",
        error_messages={"invalid_choice": "请选择有效的责任人"},
    )
    leader = UserChoice(
        label="包案领导",
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label="未指定",
        error_messages={"invalid_choice": "请选择有效的包案领导"},
    )
    plan = forms.CharField(
        label="化解方案/稳控措施", widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    due_on = forms.DateField(
        label="化解期限",
        widget=DATE,
        required=False,
        help_text="不填则按风险等级默认期限",
        error_messages=BAD_DATE,
    )

    EDIT_ONLY_OMIT = ("source", "source_note", "place_unit", "signals")

    def __init__(self, *args: Any, user: Any, new: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.new = new
        units = scope_units(user)
        for name in ("place_unit", "unit"):
            field = self.fields[name]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = units
        for name, qs in (
            ("owner", owner_choices(user)),
            ("leader", leader_choices(user)),
            ("category", categories()),
        ):
            field = self.fields[name]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = qs
        if not new:
            for name in ("source", "source_note", "place_unit"):
                del self.fields[name]
            self.fields["due_on"].required = True
            self.fields["due_on"].error_messages["required"] = "请填写化解期限"
            self.fields["due_on"].help_text = ""

    def signal_flags(self) -> dict[str, bool]:
        chosen = set(self.cleaned_data.get("signals") or [])
        return {code: code in chosen for code, _ in SIGNALS}


class DisputeFilterForm(forms.Form):
    STATE_CHOICES = [
        ("", "全部状态"),
        ("active", "未销号（化解中+待审核）"),
        *DisputeState.choices,
        ("overdue", "逾期"),
    ]
    q = forms.CharField(required=False, max_length=100)
    state = forms.ChoiceField(required=False, choices=STATE_CHOICES)
    risk = forms.ChoiceField(required=False, choices=[("", "全部风险"), *RiskLevel.choices])
    source = forms.ChoiceField(required=False, choices=[("", "全部来源"), *DisputeSource.choices])
    unit = forms.IntegerField(required=False, min_value=1)
    place = forms.IntegerField(required=False, min_value=1)
    category = forms.IntegerField(required=False, min_value=1)
    due_from = forms.DateField(required=False, widget=DATE, error_messages=BAD_DATE)
    due_to = forms.DateField(required=False, widget=DATE, error_messages=BAD_DATE)


class ContactForm(forms.Form):
    method = forms.ChoiceField(
        label="方式",
        choices=[("", "请选择"), *ContactMethod.choices],
        error_messages={"required": "请选择联系方式", "invalid_choice": "请选择联系方式"},
    )
    person = forms.CharField(
        label="联系对象",
        max_length=100,
        error_messages={
            "required": "请填写联系对象（当事人姓名或单位）",
            "max_length": "联系对象不能超过100字",
        },
    )
    at = forms.DateTimeField(
        label="时间",
        required=False,
        widget=DATETIME,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text="不填为现在",
        error_messages={"invalid": "请输入有效时间"},
    )
    note = forms.CharField(
        label="情况",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "请填写联系情况（至少2个字）"},
    )


class MultiFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultiFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultiFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


class FileForm(forms.Form):
    uploads = MultiFileField(label="上传材料", required=False)


class StrikeRequestForm(forms.Form):
    resolution = forms.CharField(
        label="化解情况",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "请填写化解情况"},
    )
    evidence = forms.CharField(
        label="化解佐证",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="协议、回访记录、当事人签字等，至少10个字",
    )
    uploads = MultiFileField(label="佐证材料", required=False, help_text="已上传的材料也算")


class StrikeDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("approve", "同意销号"), ("reject", "退回")],
        error_messages={"required": "请选择同意或退回", "invalid_choice": "请选择同意或退回"},
    )
    note = forms.CharField(
        label="审核意见",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="退回时必填",
    )
