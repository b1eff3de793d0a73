"""更正登记信息 on the case page: the form, its POST view and the side panel's context.

Thin: the form parses, ``corrections.case_correct`` decides; errors come back in Chinese on
the field they concern, with what the clerk typed kept."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from xinfang.cases import corrections, policy
from xinfang.cases.forms import category_choices
from xinfang.cases.models import Case, Channel
from xinfang.core.errors import DomainError
from xinfang.core.idempotency import form_key, post_fingerprint, replay_of, run_once


class CorrectionForm(forms.Form):
    category_id = forms.TypedChoiceField(
        label="内容分类", coerce=int, empty_value=None, required=False
    )
    place_code = forms.CharField(
        label="问题属地代码",
        max_length=20,
        required=False,
        help_text="6至12位行政区划代码；清空表示属地不明",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    headcount = forms.IntegerField(
        label="人数",
        min_value=1,
        max_value=corrections.MAX_HEADCOUNT,
        error_messages={
            "required": "请填写人数",
            "invalid": "人数应为整数",
            "min_value": "人数至少为1",
            "max_value": f"人数不能超过{corrections.MAX_HEADCOUNT}",
        },
    )
    channel = forms.ChoiceField(label="来源渠道", choices=Channel.choices)
    reason = forms.CharField(
        label="更正理由",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "请填写更正理由（至少4个字）"},
    )

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "category_id": case.category_id or "",
                "place_code": case.place_code,
                "headcount": case.headcount,
                "channel": case.channel,
            },
        )
        super().__init__(*args, **kwargs)
        # The values the clerk saw travel with the form: only what the clerk changed is
        # corrected, and a field a colleague corrected meanwhile is a conflict, not overwritten.
        for name in CORRECTED:
            self.fields[name].show_hidden_initial = True
        field = self.fields["category_id"]
        choices = category_choices()
        if case.category_id and not any(v == str(case.category_id) for v, _ in choices):
            # a category deactivated since: shown so the form does not silently change it
            choices.append((str(case.category_id), f"{case.category}（已停用）"))
        field.choices = [("", "— 未分类（不更改） —"), *choices[1:]]  # type: ignore[attr-defined]
        self.case = case


CORRECTED = ("category_id", "place_code", "headcount", "channel")


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _current(case: Case, name: str) -> str:
    return _text(getattr(case, name))


def correction_form(case: Case, data: Any = None) -> CorrectionForm:
    return CorrectionForm(data, case=case, prefix="corr")


def panel_context(context: Any, case: Case) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not corrections.may_correct(user, case):
        return {"show": False}
    form = context.get("correction_form") or correction_form(case)
    return {
        "show": True,
        "case": case,
        "form": form,
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }


@login_required
@require_POST
def case_correct_view(request: HttpRequest, pk: int) -> HttpResponse:
    """POST the correction; success → the case page (PRG); failure → the page with the form
    open, the errors on their fields and the input kept."""
    key, fingerprint, scope = form_key(request), post_fingerprint(request), f"case_correct:{pk}"
    case = get_object_or_404(policy.cases_visible_to(request.user), pk=pk)
    if replay_of(user=request.user, key=key, scope=scope, fingerprint=fingerprint):
        messages.info(request, "该更正已提交过，未重复执行")
        return redirect("case_detail", pk=case.pk)
    form = correction_form(case, request.POST)
    if form.is_valid():
        d = form.cleaned_data
        # what the clerk saw (the hidden initial values; a client without them: the case now)
        seen = {
            n: request.POST.get(form.add_initial_prefix(n), _current(case, n)) for n in CORRECTED
        }
        changed = [
            n
            for n in CORRECTED
            if _text(d.get(n)) != seen[n]
            and not (n == "category_id" and d.get(n) is None)  # "— 未分类（不更改） —"
        ]
        stale = [n for n in changed if seen[n] != _current(case, n)]
        if stale:
            labels = "、".join(str(form.fields[n].label) for n in stale)
            form.add_error(None, f"{labels}刚被他人更正，请刷新页面后再更正")
        elif not changed:
            form.add_error(None, "没有需要更正的内容：请修改至少一项登记信息")
    if form.is_valid():
        d = form.cleaned_data
        try:
            run_once(
                user=request.user,
                key=key,
                scope=scope,
                fingerprint=fingerprint,
                effect=lambda: corrections.case_correct(
                    case=case,
                    by=request.user,
                    category_id=d.get("category_id") if "category_id" in changed else None,
                    place_code=(d.get("place_code") or "") if "place_code" in changed else None,
                    headcount=d.get("headcount") if "headcount" in changed else None,
                    channel=d.get("channel") if "channel" in changed else None,
                    reason=d.get("reason") or "",
                ),
            )
        except DomainError as exc:
            if not corrections.may_correct(request.user, case):
                # no form on this user's page to show it on: say it at the top
                messages.error(request, exc.message)
                return redirect("case_detail", pk=case.pk)
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, "已更正登记信息，统计数据已按更正后的信息计算")
            return redirect("case_detail", pk=case.pk)
    from xinfang.cases.views import _detail_context

    context = _detail_context(request, case)
    context["correction_form"] = form
    return render(request, "cases/detail.html", context, status=200)
