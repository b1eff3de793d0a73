"""办事指南 pages: the directory (``/directory/``) and the 不属本单位管辖 告知 of a case
(``/directory/cases/<id>/inform/``).

- The directory is readable by every case reader (role in ``roles.CASE_READERS``); search by
  keyword, filter by content category (the register form's 3-level picker), place and kind,
  paginated, printable.
- 告知（不属本单位管辖）: the case is fetched through ``cases_visible_to`` (404 otherwise); the
  action is ``cases.services.case_inform`` with the chosen organ (guard there: office desk
  staff, state 已登记/已退回). The organ picker lists ``competent_organs`` for the case's
  category and place first, then every other active organ.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from xinfang.cases import services as S
from xinfang.cases.forms import category_choices
from xinfang.cases.models import Case
from xinfang.cases.policy import cases_visible_to, may
from xinfang.cases.transitions import ACTIONS
from xinfang.core.errors import DomainError
from xinfang.core.idempotency import form_key, post_fingerprint, replay_of, run_once
from xinfang.core.paging import paginate
from xinfang.directory.models import Organ, OrganKind
from xinfang.directory.services import LEGAL_ROUTES, competent_organs, remedy_text
from xinfang.org import roles as R
from xinfang.org.models import Unit
from xinfang.org.policy import role_codes

PER_PAGE = 20


def may_read_directory(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and role_codes(user) & R.CASE_READERS)


def place_choices() -> list[tuple[str, str]]:
    """Places with a division code (streets/townships, communities/villages), as the tree."""
    rows = (
        Unit.objects.filter(is_active=True)
        .exclude(division_code="")
        .order_by("path")
        .values_list("division_code", "name", "path")
    )
    out = [("", "— 全辖区 —")]
    for code, name, path in rows:
        depth = max(path.count(".") - 1, 0)
        out.append((code, ("　" * max(depth - 1, 0)) + name))
    return out


class DirectoryFilter(forms.Form):
    q = forms.CharField(label="关键词", max_length=40, required=False)
    category = forms.TypedChoiceField(
        label="内容分类", coerce=int, empty_value=None, required=False
    )
    place = forms.ChoiceField(label="问题属地", required=False)
    kind = forms.ChoiceField(
        label="机关类型", choices=[("", "— 全部 —"), *OrganKind.choices], required=False
    )
    legal = forms.BooleanField(label="仅涉法涉诉途径", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = category_choices()  # type: ignore[attr-defined]
        self.fields["place"].choices = place_choices()  # type: ignore[attr-defined]


@login_required
@require_http_methods(["GET"])
def directory_list(request: HttpRequest) -> HttpResponse:
    if not may_read_directory(request.user):
        raise DjangoPermissionDenied("办事指南仅供办理信访事项的工作人员查阅")
    form = DirectoryFilter(request.GET or None)
    f: dict[str, Any] = form.cleaned_data if form.is_bound and form.is_valid() else {}
    organs = competent_organs(
        f.get("category"),
        f.get("place") or "",
        f.get("q") or "",
        kind=f.get("kind") or "",
        legal_only=bool(f.get("legal")),
    )
    page, query = paginate(request, organs, PER_PAGE)
    rows = [{"o": o, "remedy": remedy_text(o) if o.legal_route else ""} for o in page]
    return render(
        request,
        "directory/list.html",
        {
            "form": form,
            "page": page,
            "query": query,
            "rows": rows,
            "legal_routes": LEGAL_ROUTES,
            "filtered": bool(f and any(f.values())),
            "may_register": bool(role_codes(request.user) & R.OFFICE_STAFF),
        },
    )


class InformForm(forms.Form):
    organ = forms.TypedChoiceField(label="有权处理机关", coerce=int)
    reason = forms.CharField(
        label="告知理由",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="不属本单位管辖的原因；告知单另行写明所选机关的地址、电话和办公时间",
    )

    def __init__(self, *args: Any, choices: list[tuple[Any, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organ"].choices = choices  # type: ignore[attr-defined]


def organ_choices(case: Case) -> tuple[list[tuple[Any, Any]], list[Organ]]:
    """Grouped choices: 推荐 (competent for the case's category/place), then 其他机关."""
    suggested = competent_organs(case.category_id, case.place_code)
    # Only organs that matched on something specific count as suggestions; the rest follow.
    seen = {o.pk for o in suggested}
    others = [o for o in competent_organs(None, "") if o.pk not in seen]

    def label(o: Organ) -> str:
        kind = o.get_kind_display()  # type: ignore[attr-defined]
        return o.name if kind in o.name else f"{o.name}（{kind}）"

    choices: list[tuple[Any, Any]] = [("", "— 请选择 —")]
    if suggested:
        choices.append(("推荐（按本事项的内容分类和属地）", [(o.pk, label(o)) for o in suggested]))
    if others:
        choices.append(("其他机关", [(o.pk, label(o)) for o in others]))
    return choices, suggested


def may_inform(user: Any, case: Case) -> bool:
    return may(user, "inform", case) and case.status in ACTIONS["inform"].from_states


def default_reason(organ: Organ | None = None) -> str:
    base = "经审查，你反映的问题不属于本机关职责范围"
    return base + ("，依法应当通过法定途径解决。" if organ and organ.legal_route else "。")


@login_required
@require_http_methods(["GET", "POST"])
def case_inform_view(request: HttpRequest, pk: int) -> HttpResponse:
    case = cases_visible_to(request.user).select_related("category").filter(pk=pk).first()
    if case is None:
        raise Http404
    # A double click (or a resubmitted page) informs once; the second gets the case page with
    # a note instead of a refusal ("已告知" is no longer a state one may inform from).
    key, fingerprint = form_key(request), post_fingerprint(request)
    scope = f"directory_inform:{case.pk}"
    if request.method == "POST" and replay_of(
        user=request.user, key=key, scope=scope, fingerprint=fingerprint
    ):
        messages.info(request, "该告知已提交过，未重复告知")
        return redirect("case_detail", pk=case.pk)
    if not may_inform(request.user, case):
        raise DjangoPermissionDenied("只有登记单位的接待员、办案员可以对已登记、已退回的事项告知")
    choices, suggested = organ_choices(case)
    if request.method == "POST":
        form = InformForm(request.POST, choices=choices)
        if form.is_valid():
            try:
                once = run_once(
                    user=request.user,
                    key=key,
                    scope=scope,
                    fingerprint=fingerprint,
                    effect=lambda: S.case_inform(
                        case=case,
                        by=request.user,
                        reason=form.cleaned_data["reason"],
                        organ_id=form.cleaned_data["organ"],
                    ),
                )
            except DomainError as exc:
                target = exc.field if exc.field in form.fields else None
                form.add_error(target, str(exc))
            else:
                if once.value is None:  # the same submission, answered a moment ago
                    messages.info(request, "该告知已提交过，未重复告知")
                    return redirect("case_detail", pk=case.pk)
                event = once.value
                # The 告知单 is what the petitioner takes away: issue it now and open it.
                from xinfang.documents.services import document_for_event

                doc = document_for_event(event, by=request.user)
                messages.success(request, f"已告知（不属本单位管辖），告知单 {doc.number} 已生成。")
                return redirect("documents_print", pk=doc.pk)
    else:
        initial: dict[str, Any] = {"reason": default_reason(suggested[0] if suggested else None)}
        if request.GET.get("organ", "").isdigit():
            initial["organ"] = int(request.GET["organ"])
        elif suggested:
            initial["organ"] = suggested[0].pk
        form = InformForm(initial=initial, choices=choices)
    return render(
        request,
        "directory/inform.html",
        {"case": case, "form": form, "suggested": suggested[:5]},
    )
