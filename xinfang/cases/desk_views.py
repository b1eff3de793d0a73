"""The registration form's desk parts (接待台): known persons as cards, the 口径一致 panel, the
终结 → 告知 choice, and the case page's 移交 / 转介心理疏导 forms. Thin: parse, call
``xinfang.cases.desk`` or ``registration``, render."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_POST

from xinfang.cases import desk, policy
from xinfang.cases.models import Case, CaseEvent, Channel, VisitorType
from xinfang.cases.registration import Registration
from xinfang.core.errors import DomainError
from xinfang.core.idempotency import form_key, post_fingerprint, replay_of, run_once
from xinfang.core.text import clean_line, clean_text
from xinfang.org.models import Unit

MAX_PERSON_ROWS = 10
MAX_TEXT = 20_000
POSITION_KINDS = {
    "reply": "答复意见",
    "refuse": "不予受理",
    "inform": "告知",
    "decide_review": "复查意见",
    "decide_rereview": "复核意见",
}


def _int(value: Any) -> int | None:
    s = str(value or "").strip()
    return int(s) if s.isdigit() and 0 < len(s) < 18 and int(s) > 0 else None


def _directory_url() -> str:
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse("directory_list")
    except NoReverseMatch:
        return "/directory/"


def known_context(request: HttpRequest, data: Any, *, prefill: bool = False) -> dict[str, Any]:
    """The known persons (cards), the related case and, for a GET from the desk, the form's
    initial values. ``known_error``: a person or related case the clerk may not use."""
    user = request.user
    ids = desk.clean_ids(data.getlist("person" if prefill else "known_person"))
    rep_ids = set(desk.clean_ids(data.getlist("known_rep")))
    known, missing = [], 0
    for pk in ids:
        person = desk.desk_person(user, pk)
        if person is None:
            missing += 1
            continue
        person.is_rep = pk in rep_ids  # type: ignore[attr-defined]
        known.append(person)
    related_id = _int(data.get("related"))
    related = desk.visible_case(user, related_id)
    error = ""
    if missing:
        error = desk.NOT_VISIBLE
    elif related_id and related is None:
        error = "关联前案不存在或不在您的权限范围内"
    initial: dict[str, Any] = {}
    if prefill:
        channel = data.get("channel") or ""
        if channel in Channel.values:
            initial["channel"] = channel
            if channel == Channel.COLLECTIVE_VISIT:
                initial["visitor_type"] = VisitorType.COLLECTIVE
        if related is not None:
            initial["related"] = related.pk
            initial["category"] = str(related.category_id or "")
            initial["purpose"] = related.purpose
            initial["place_code"] = related.place_code
            initial["visitor_type"] = initial.get("visitor_type") or VisitorType.REPEAT
        desk_purpose = data.get("desk_purpose") or ""
        if desk_purpose in desk.PURPOSE_MAP:  # e.g. from the 办事指南: 非本单位管辖
            initial["desk_purpose"] = desk_purpose
            initial["purpose"] = desk.PURPOSE_MAP[desk_purpose]
        for name in ("visit", "booking"):
            if _int(data.get(name)):
                initial[name] = _int(data.get(name))
        if known:
            initial["headcount"] = max(1, len(known))
    if error and prefill:
        messages.warning(request, f"{error}，未带入登记表")
    return {
        "known_people": known,
        "known_error": "" if prefill else error,
        "related_case": related,
        "initial": initial,
        "desk_guidance": desk.guidance_data(),
        "directory_url": _directory_url(),
    }


def fill_registration(
    request: HttpRequest, reg: Registration, d: dict[str, Any], people: Any, ctx: dict[str, Any]
) -> None:
    """Known persons, 代表 ticks, 分类接待 and the 终结 choice into ``reg``. With any 代表
    ticked, the un-ticked persons present are 在场人员 (role ``participant``); otherwise every
    person row is a 信访人 as before. Rows are remembered for ``row_error``."""
    rows = [(i, f.to_input(), bool(f.cleaned_data.get("rep"))) for i, f in enumerate(people.forms)]
    rows = [r for r in rows if r[1] is not None]
    known = ctx["known_people"]
    ticked = any(t for _, _, t in rows) or any(p.is_rep for p in known)
    reg_rows: dict[str, list[int]] = {"p": [], "x": [], "r": []}
    reps_before = len(reg.representatives)
    reg_rows["r"] = [-1] * reps_before  # r-formset rows keep their own indices
    if ticked:
        for i, value, tick in rows:
            if tick:
                reg.representatives.append(value)  # type: ignore[arg-type]
                reg_rows["r"].append(i)
            else:
                reg.participants.append(value)  # type: ignore[arg-type]
                reg_rows["x"].append(i)
        reg.known_representative_ids = [p.pk for p in known if p.is_rep]
        reg.known_participant_ids = [p.pk for p in known if not p.is_rep]
    else:
        reg.petitioners = [value for _, value, _ in rows]  # type: ignore[misc]
        reg_rows["p"] = [i for i, _, _ in rows]
        reg.known_petitioner_ids = [p.pk for p in known]
    ctx["_rows"] = reg_rows
    related = ctx.get("related_case")
    reg.related_to_id = related.pk if related is not None else None
    reg.desk_purpose = d.get("desk_purpose") or ""
    reg.visitor_type = d.get("visitor_type") or ""
    if d.get("psych_referral"):
        reg.psych_note = d.get("psych_note") or ""
    seen = d.get("final_seen")
    if seen:
        final = desk.visible_case(request.user, seen)
        if final is not None and final.status == "final":
            reg.final_inform = bool(d.get("final_inform"))
            reg.final_case_id = final.pk
            if reg.final_inform and reg.related_to_id is None:
                reg.related_to_id = final.pk  # the clerk confirmed: the same matter


def row_error(exc: DomainError, ctx: dict[str, Any]) -> DomainError:
    """A service error on person ``p3_…``/``x1_…``/``r5_…`` (indices of the service's lists)
    moved to the form row it came from."""
    field = exc.field or ""
    rows = ctx.get("_rows") or {}
    head, _, name = field.partition("_")
    if head[:1] in rows and head[1:].isdigit() and name:
        index = int(head[1:])
        mapping = rows[head[:1]]
        if index < len(mapping):
            row = mapping[index]
            prefix = "r" if row < 0 else "p"
            row = index if row < 0 else row
            return DomainError(exc.message, field=f"{prefix}{row}_{name}")
    return exc


def announce_desk(request: HttpRequest, case: Case, d: dict[str, Any]) -> None:
    """Inside the registration transaction, for a new case from a desk visit or a leader-day
    booking only (``visit_id``/``booking_id``: int or None; xinfang.reception links them)."""
    if d.get("visit") or d.get("booking"):
        from xinfang.cases.signals import desk_case_registered

        desk_case_registered.send(
            sender=None,
            case=case,
            visit_id=int(d["visit"]) if d.get("visit") else None,
            booking_id=int(d["booking"]) if d.get("booking") else None,
            by=request.user,
        )


# --- the 口径一致 panel ----------------------------------------------------------------------


def _typed_petitioners(post: Any) -> list[int]:
    from xinfang.people import selectors as people

    ids: list[int] = []
    for i in range(MAX_PERSON_ROWS):
        number = (post.get(f"p-{i}-id_number") or "").strip()[:40]
        phone = (post.get(f"p-{i}-phone") or "").strip()[:40]
        if number:
            ids += people.with_id_number(number).values_list("pk", flat=True)[:5]
        if phone:
            ids += people.with_phone(phone).values_list("pk", flat=True)[:5]
    return list(dict.fromkeys(ids))


def positions(case: Case) -> list[dict[str, Any]]:
    """What was said on a case: the latest 答复意见 / 不予受理 / 告知 / 复查 / 复核 texts (a
    检举控告件's are not repeated: its content is confidential)."""
    if case.is_confidential:
        return []
    seen: dict[str, dict[str, Any]] = {}
    events = CaseEvent.objects.filter(case=case).order_by("-at", "-id")
    for kind, text, at, unit in events.values_list("kind", "text", "at", "actor_unit__name")[:200]:
        if kind in POSITION_KINDS and kind not in seen and text:
            seen[kind] = {"label": POSITION_KINDS[kind], "text": text, "at": at, "unit": unit}
    return sorted(seen.values(), key=lambda p: p["at"])


@login_required
@require_POST
def desk_panel(request: HttpRequest) -> HttpResponse:
    """口径一致 (one panel): the final matter (已终结，不再受理 with the 复核意见 and the 告知
    choice), the related case with what was answered, and the similar earlier cases of the
    same person/matter (``intel.similar``) — visible cases only."""
    if not policy.registering_offices(request.user):
        raise Http404
    return render(request, "cases/_desk_panel.html", panel_context(request, request.POST))


def panel_first(request: HttpRequest, desk_ctx: dict[str, Any], form: Any) -> str:
    """The panel as the register page first shows it — rendered with the page, so that a
    known person's final matter is there (and the 告知 choice is part of the form) even when
    JavaScript is off; with it, HTMX refreshes the panel as the clerk types."""
    data = QueryDict(mutable=True)
    if form.is_bound:
        data = form.data.copy()
    else:
        data.setlist("known_person", [str(p.pk) for p in desk_ctx["known_people"]])
        for name in ("related", "category"):
            value = desk_ctx["initial"].get(name)
            if value:
                data[name] = str(value)
    return render_to_string("cases/_desk_panel.html", panel_context(request, data), request=request)


def panel_context(request: HttpRequest, post: Any) -> dict[str, Any]:
    user = request.user
    known = [
        pk
        for pk in desk.clean_ids(post.getlist("known_person"))
        if desk.desk_person(user, pk) is not None
    ]
    petitioners = list(dict.fromkeys(known + _typed_petitioners(post)))
    category = _int(post.get("category"))
    related = desk.visible_case(user, _int(post.get("related")))
    # clean_*: controls out (a NUL is refused by PostgreSQL: a 500, not an answer)
    group_name = clean_line(post.get("group_name") or "")[:100]
    final = desk.final_for_desk(
        user,
        petitioner_ids=petitioners,
        group_name=group_name,
        category_id=category,
        related_id=related.pk if related else None,
    )
    # Checked by default only for the same matter (named as related, or the same category);
    # a final case of the same person found without a category waits for the clerk's tick.
    same_matter = final is not None and (
        (related is not None and related.pk == final.pk)
        or (category is not None and final.category_id == category)
    )
    checked = same_matter
    if final is not None:
        if _int(post.get("final_seen")) == final.pk:
            checked = bool(post.get("final_inform"))
        elif _int(post.get("final_seen_prev")) == final.pk:  # the form came back with an error
            checked = bool(post.get("final_inform_prev"))
    context: dict[str, Any] = {
        "final": final,
        "final_opinion": desk.final_opinion(final) if final else "",
        "final_checked": checked,
        "same_matter": same_matter,
        "related": related,
        "related_positions": positions(related) if related and related != final else [],
        "final_positions": positions(final) if final else [],
    }
    from xinfang.intel import similar

    title = clean_text((post.get("summary") or "")[:MAX_TEXT])
    text = clean_text((post.get("content") or "")[:MAX_TEXT])
    hits: list[Any] = []
    if similar.may_use_similar(user) and (title.strip() or text.strip() or petitioners):
        skip = {c.pk for c in (final, related) if c is not None}
        hits = [
            h
            for h in similar.similar_cases(
                user,
                title=title,
                text=text,
                petitioner_ids=petitioners,
                place_code=clean_line(post.get("place_code") or "")[:12],
                category_id=category,
            )
            if h.case.pk not in skip
        ]
    context.update(
        hits=hits,
        empty=not (title.strip() or text.strip() or petitioners),
        for_case=False,
        loading=similar.index_loading() and bool(hits or petitioners),
    )
    return context


# --- the case page: 移交 and 转介心理疏导 -------------------------------------------------------


class HandoverForm(forms.Form):
    to_user = forms.ModelChoiceField(
        label="移交给同事", queryset=get_user_model().objects.none(), required=False
    )
    to_unit = forms.ModelChoiceField(
        label="或移交单位（仅记录；正式交办/转送仍走分流）",
        queryset=Unit.objects.none(),
        required=False,
    )
    reason = forms.CharField(
        label="移交原因", widget=forms.Textarea(attrs={"rows": 2}), max_length=1000, required=False
    )

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owner = desk.desk_owner(case)
        users = [u.pk for u in desk.handover_colleagues(case) if u.pk != owner.pk]
        self.fields["to_user"].queryset = get_user_model().objects.filter(pk__in=users)  # type: ignore[attr-defined]
        self.fields["to_unit"].queryset = desk.handover_units(case)  # type: ignore[attr-defined]
        self.fields["to_user"].label_from_instance = lambda u: u.get_full_name() or u.username  # type: ignore[attr-defined]


class CounsellingForm(forms.Form):
    note = forms.CharField(
        label="疏导情况说明", widget=forms.Textarea(attrs={"rows": 2}), max_length=1000
    )


def desk_forms(case: Case, data: Any = None) -> dict[str, Any]:
    return {"handover": HandoverForm(data, case=case), "counselling": CounsellingForm(data)}


def _case_page(request: HttpRequest, case: Case, forms_: dict[str, Any]) -> HttpResponse:
    from xinfang.cases.views import _detail_context

    context = _detail_context(request, case)
    context["desk_forms"] = forms_
    return render(request, "cases/detail.html", context)


@login_required
@require_POST
def case_handover_view(request: HttpRequest, pk: int) -> HttpResponse:
    key, fingerprint, scope = form_key(request), post_fingerprint(request), f"case_handover:{pk}"
    case = get_object_or_404(policy.cases_visible_to(request.user), pk=pk)
    if replay_of(user=request.user, key=key, scope=scope, fingerprint=fingerprint):
        messages.info(request, "该移交已提交过，未重复记录")
        return redirect("case_detail", pk=case.pk)
    forms_ = desk_forms(case, request.POST)
    form = forms_["handover"]
    if form.is_valid():
        d = form.cleaned_data
        try:
            run_once(
                user=request.user,
                key=key,
                scope=scope,
                fingerprint=fingerprint,
                effect=lambda: desk.case_hand_over(
                    case=case,
                    by=request.user,
                    reason=d.get("reason") or "",
                    to_user=d.get("to_user"),
                    to_unit=d.get("to_unit"),
                ),
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, "已移交并记录")
            return redirect("case_detail", pk=case.pk)
    forms_["counselling"] = CounsellingForm()
    return _case_page(request, case, forms_)


@login_required
@require_POST
def case_counselling_view(request: HttpRequest, pk: int) -> HttpResponse:
    key, fingerprint, scope = form_key(request), post_fingerprint(request), f"case_psych:{pk}"
    case = get_object_or_404(policy.cases_visible_to(request.user), pk=pk)
    if replay_of(user=request.user, key=key, scope=scope, fingerprint=fingerprint):
        messages.info(request, "该转介已提交过，未重复记录")
        return redirect("case_detail", pk=case.pk)
    forms_ = desk_forms(case, request.POST)
    form = forms_["counselling"]
    if form.is_valid():
        note = form.cleaned_data["note"]
        try:
            run_once(
                user=request.user,
                key=key,
                scope=scope,
                fingerprint=fingerprint,
                effect=lambda: desk.case_refer_counselling(case=case, by=request.user, note=note),
            )
        except DomainError as exc:
            form.add_error("note", exc.message)
        else:
            messages.success(request, "已记录转介心理疏导")
            return redirect("case_detail", pk=case.pk)
    forms_["handover"] = HandoverForm(case=case)
    return _case_page(request, case, forms_)
