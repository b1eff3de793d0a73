"""The portal's submission form: parsing only. Every rule lives in ``portal.submission``
(``submission_errors``), which the JSON API calls too; the view puts its errors back on these
fields so the page shows them beside what the citizen typed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.utils import flatatt
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from xinfang.portal import submission as S

COSIGNER_PREFIX = "c"


def _text(label: str, *, help_text: str = "", **attrs: Any) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        strip=False,
        help_text=help_text,
        widget=forms.TextInput(attrs=attrs),
    )


class FastSelect(forms.Select):
    """The same ``<select>`` markup as Django's, built in Python: Django renders every
    ``<option>`` through a template, and the category picker has some 650 (≈ 150 ms a page)."""

    def render(self, name: str, value: Any, attrs: Any = None, renderer: Any = None) -> SafeString:
        final = self.build_attrs(self.attrs, attrs)
        final["name"] = name
        chosen = {str(v) for v in (value if isinstance(value, list | tuple) else [value])}
        parts = [f"<select{flatatt(final)}>"]

        def option(val: Any, label: Any) -> str:
            mark = " selected" if str(val) in chosen else ""
            return f'<option value="{escape(val)}"{mark}>{escape(label)}</option>'

        for val, label in self.choices:
            if isinstance(label, list | tuple):  # an optgroup
                parts.append(f'<optgroup label="{escape(val)}">')
                parts.extend(option(v, lab) for v, lab in label)
                parts.append("</optgroup>")
            else:
                parts.append(option(val, label))
        parts.append("</select>")
        return mark_safe("".join(parts))  # every value and label escaped above


class SubmitForm(forms.Form):
    """The submitter and the matter. All fields optional here: ``submission_errors`` says
    what is missing, in the same words the API uses."""

    name = _text("姓名", autocomplete="name")
    id_type = forms.ChoiceField(label="证件类型", required=False, choices=S.ID_TYPES)
    id_number = _text(
        "证件号码",
        help_text="居民身份证为18位，最后一位可能是X",
        autocomplete="off",
        spellcheck="false",
    )
    phone = forms.CharField(
        label="手机号码",
        required=False,
        help_text="查询办理进展的凭证，并用于接收短信告知",
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
    )
    address = _text("联系地址", help_text="便于邮寄书面答复（选填）", autocomplete="street-address")
    purpose = forms.CharField(label="信访目的", required=False)
    category = forms.ChoiceField(label="内容分类", required=False, widget=FastSelect)
    place_code = forms.ChoiceField(label="问题属地", required=False, widget=FastSelect)
    place_detail = _text("详细地点", help_text="如小区、村组、路段（选填）")
    summary = forms.CharField(
        label="诉求摘要",
        required=False,
        strip=False,
        help_text=f"一句话说明诉求，不超过{S.SUMMARY_MAX}字",
        widget=forms.TextInput(attrs={"data-count-max": str(S.SUMMARY_MAX)}),
    )
    content = forms.CharField(
        label="具体内容",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 10}),
    )
    accused_text = forms.CharField(
        label="被检举控告对象",
        required=False,
        strip=False,
        help_text="被检举控告的单位或人员的名称、职务，以及所在单位（选填）",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    consent = forms.BooleanField(label="我已阅读并同意《个人信息保护告知》", required=False)
    hp = forms.CharField(
        label="请勿填写",
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit = S.max_text()
        content = self.fields["content"]
        content.help_text = f"请写明事实、经过和诉求，不超过{limit}字"
        content.widget.attrs["data-count-max"] = str(limit)
        category: Any = self.fields["category"]
        category.choices = [("", "— 不确定，由工作人员分类 —"), *S.category_groups()]
        place: Any = self.fields["place_code"]
        place.choices = [("", "— 请选择（不确定可不选）—"), *S.place_choices()]

    def signer(self) -> S.Signer:
        d = self.cleaned_data
        return S.Signer(
            name=d.get("name") or "",
            id_type=d.get("id_type") or "",
            id_number=d.get("id_number") or "",
            phone=d.get("phone") or "",
            address=d.get("address") or "",
        )


class CosignerForm(forms.Form):
    """One co-signer (联名人): name, and optionally ID and phone."""

    name = _text("姓名", autocomplete="off")
    id_type = forms.ChoiceField(label="证件类型", required=False, choices=S.ID_TYPES)
    id_number = _text("证件号码（选填）", autocomplete="off", spellcheck="false")
    phone = forms.CharField(
        label="手机号码（选填）",
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off", "inputmode": "tel"}),
    )

    def signer(self) -> S.Signer:
        d = self.cleaned_data
        return S.Signer(
            name=d.get("name") or "",
            id_type=d.get("id_type") or "",
            id_number=d.get("id_number") or "",
            phone=d.get("phone") or "",
        )

    def raw(self) -> dict[str, Any]:
        """What was typed (unvalidated), to show again."""
        return {name: self[name].data for name in self.fields}


def submission_from(form: SubmitForm, cosigners: list[CosignerForm]) -> S.Submission:
    """The (cleaned) form as a ``Submission`` (normalised)."""
    d = form.cleaned_data
    category = d.get("category") or ""
    return S.normalised(
        S.Submission(
            principal=form.signer(),
            purpose=d.get("purpose") or "",
            summary=d.get("summary") or "",
            content=d.get("content") or "",
            category_id=int(category) if str(category).isdigit() else None,
            place_code=d.get("place_code") or "",
            place_detail=d.get("place_detail") or "",
            accused_text=d.get("accused_text") or "",
            cosigners=[c.signer() for c in cosigners],
            consent=bool(d.get("consent")),
        )
    )


def initial_from(sub: S.Submission) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Form and co-signer initial values from a stored submission (返回修改)."""
    p = sub.principal
    main = {
        "name": p.name,
        "id_type": p.id_type,
        "id_number": p.id_number,
        "phone": p.phone,
        "address": p.address,
        "purpose": sub.purpose,
        "category": str(sub.category_id or ""),
        "place_code": sub.place_code,
        "place_detail": sub.place_detail,
        "summary": sub.summary,
        "content": sub.content,
        "accused_text": sub.accused_text,
        "consent": sub.consent,
    }
    rows = [
        {"name": c.name, "id_type": c.id_type, "id_number": c.id_number, "phone": c.phone}
        for c in sub.cosigners
    ]
    return main, rows
