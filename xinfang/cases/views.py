"""Staff UI views: thin — parse input, call a selector or a service, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_POST

from xinfang.cases import actions, confidential, deadlines, policy, selectors
from xinfang.cases.attachments import attachment_add
from xinfang.cases.forms import (
    CaseFilterForm,
    CaseRegisterForm,
    NoteAddForm,
    PersonFormSet,
    RepresentativeFormSet,
    validate_upload,
)
from xinfang.cases.models import OBLIGATION_KINDS, Case, Category, Status
from xinfang.cases.policy import may_add_to_file
from xinfang.cases.registration import Registration, case_register
from xinfang.cases.services import case_add_note
from xinfang.cases.transitions import ACTIONS, EVENT_LABELS
from xinfang.core.errors import DomainError
from xinfang.core.idempotency import form_key, post_fingerprint, replay_of, run_once
from xinfang.core.paging import paginate
from xinfang.org import roles as R
from xinfang.org.models import Unit
from xinfang.org.policy import jurisdiction_of, role_codes

PAGE_SIZE = 50


@login_required
def home(request: HttpRequest) -> HttpResponse:
    from xinfang.core.workcalendar import calendar_warning

    held = role_codes(request.user)
    if not held & R.CASE_READERS:
        # Admin roles read no cases (三权分立): their start page is their own work.
        if R.AUDITOR in held:
            return redirect("audit_list")
        if held & {R.SYSADMIN, R.SECADMIN}:
            return redirect("admin:index")
        if R.INFORMANT in held:
            # 信息员 read no cases: their start page is the phone page (xinfang.prevention).
            return redirect("prevention_mobile")
    return render(
        request,
        "cases/home.html",
        {
            "items": selectors.work_list(request.user),
            "calendar_warning": calendar_warning(),
            "can_register": bool(policy.registering_offices(request.user)),
            # Leaders and supervisors: the hotspots section, loaded after the page (it can
            # take seconds to compute when not cached — xinfang.intel.hotspots).
            "show_hotspots": bool(held & {R.LEADER, R.SUPERVISOR}),
        },
    )


@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    form = CaseFilterForm(request.GET or None)
    qs = selectors.case_list(request.user, form.to_filter())
    page, query = paginate(request, selectors.case_list_page_rows(qs), PAGE_SIZE)
    rows = list(page.object_list)
    first = selectors.annotate_page(rows)
    confidential.mask_rows(rows, first)
    today = timezone.localdate()
    for case in rows:
        case.first_petitioner = first.get(case.pk)  # type: ignore[attr-defined]
        case.deadline_state = deadlines.state_of(case.next_due, today)  # type: ignore[attr-defined]
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "query": query,
        "state_labels": deadlines.STATE_LABELS,
        "units": Unit.objects.filter(is_active=True).order_by("path"),
        "categories": Category.objects.filter(level__lte=2, is_active=True).order_by("sort", "id"),
    }
    template = "cases/_list_table.html" if request.headers.get("HX-Request") else "cases/list.html"
    return render(request, template, context)


def _visible_cases(request: HttpRequest) -> QuerySet[Case]:
    return policy.cases_visible_to(request.user).select_related(
        "category", "office_unit", "handling_unit", "registered_by", "group", "related_to"
    )


def _visible_case(request: HttpRequest, pk: int) -> Case:
    return get_object_or_404(_visible_cases(request), pk=pk)


def _detail_context(request: HttpRequest, case: Case, forms: dict[str, Any] | None = None):  # type: ignore[no-untyped-def]
    forms = forms or {}
    allowed = policy.allowed_actions(request.user, case)
    panel = [
        {
            "code": a.code,
            "label": a.label,
            "ui": actions.ACTION_UI[a.code],
            "form": forms.get(a.code) or actions.make_form(a.code, case),
        }
        for a in allowed
        if a.code in actions.ACTION_UI  # 答复 is served from the 答复意见书 panel (replies)
    ]
    today = timezone.localdate()
    open_deadlines = [d for d in case.deadlines.all() if d.is_open]
    for d in open_deadlines:
        d.state = deadlines.state_of(d.due_on, today)  # type: ignore[attr-defined]
        d.is_window = d.kind not in OBLIGATION_KINDS  # type: ignore[attr-defined]
    events = list(case.events.select_related("actor", "actor_unit").all())
    for e in events:
        e.to_label = Status(e.to_status).label if e.to_status else ""  # type: ignore[attr-defined]
        e.label = EVENT_LABELS.get(e.kind, e.kind)  # type: ignore[attr-defined]
    related_visible = (
        case.related_to_id is not None
        and policy.cases_visible_to(request.user).filter(pk=case.related_to_id).exists()
    )
    return {
        "related_visible": related_visible,
        "case": case,
        "parties": case.parties.select_related("petitioner").all(),
        "events": events,
        "deadlines_all": case.deadlines.all().order_by("id"),
        "open_deadlines": open_deadlines,
        "panel": panel,
        "state_labels": deadlines.STATE_LABELS,
        "extensions": case.extensions.all(),
        "attachments": case.attachments.filter(is_internal=False),  # evidence: its own panel
        "note_form": NoteAddForm(),
        "may_note": may_add_to_file(request.user, case),
    }


@login_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = _visible_case(request, pk)
    response = render(request, "cases/detail.html", _detail_context(request, case))
    if case.is_confidential:
        patch_cache_control(response, no_store=True, private=True)
    return response


@login_required
@require_POST
def case_act(request: HttpRequest, pk: int, code: str) -> HttpResponse:
    if code not in actions.ACTION_UI:
        raise Http404
    key, fingerprint, scope = form_key(request), post_fingerprint(request), f"case_act:{pk}:{code}"
    from_work = request.POST.get("from") == "work" and bool(request.headers.get("HX-Request"))
    if replay_of(user=request.user, key=key, scope=scope, fingerprint=fingerprint):
        # A resent form (double click, retry after a timeout): the first result, once.
        if from_work:  # the workbench's inline 签收: answer with its row (cases.work_views)
            from xinfang.cases.work_views import work_row_response

            return work_row_response(request, pk)
        return _replayed(request, pk, f"「{ACTIONS[code].label}」已提交过，未重复执行")
    case = _visible_case(request, pk)
    form = actions.make_form(code, case, request.POST)
    failed: dict[str, Any] = {}
    if form.is_valid():
        try:
            run_once(
                user=request.user,
                key=key,
                scope=scope,
                fingerprint=fingerprint,
                effect=lambda: actions.run(code, form, case, request.user),
            )
        except DomainError as exc:
            target = exc.field if exc.field in form.fields else None
            form.add_error(target, exc.message)
            failed[code] = form
        else:
            messages.success(request, f"已{ACTIONS[code].label}")
            fresh = _visible_cases(request).filter(pk=pk).first()
            if fresh is None:
                # e.g. the unit returned the case: it left this user's view.
                messages.info(request, "该事项已不在您的可见范围内")
                if not request.headers.get("HX-Request"):
                    return redirect("case_list")
                response = HttpResponse(status=204)
                response["HX-Redirect"] = reverse("case_list")
                return response
            case = fresh
    else:
        failed[code] = form
    if from_work:
        from xinfang.cases.work_views import work_row_response

        errors = [str(e) for errs in failed[code].errors.values() for e in errs] if failed else []
        return work_row_response(request, pk, "；".join(errors), done=not failed)
    context = _detail_context(request, case, failed)
    context["open_action"] = code if failed else ""
    context["partial"] = bool(request.headers.get("HX-Request"))
    if failed and code not in {item["code"] for item in context["panel"]}:
        # The action is no longer (or never was) offered to this user: say why at the top.
        errors = failed[code].errors.get("__all__") or [
            e for errs in failed[code].errors.values() for e in errs
        ]
        context["action_error"] = "；".join(str(e) for e in errors)
    template = "cases/_detail_body.html" if context["partial"] else "cases/detail.html"
    return render(request, template, context)


@login_required
@require_POST
def case_note(request: HttpRequest, pk: int) -> HttpResponse:
    """A remark or correction: a new timeline row, never an edit."""
    key, fingerprint, scope = form_key(request), post_fingerprint(request), f"case_note:{pk}"
    if replay_of(user=request.user, key=key, scope=scope, fingerprint=fingerprint):
        return _replayed(request, pk, "该备注已提交过，未重复添加")
    case = _visible_case(request, pk)
    form = NoteAddForm(request.POST)
    if form.is_valid():
        try:
            run_once(
                user=request.user,
                key=key,
                scope=scope,
                fingerprint=fingerprint,
                effect=lambda: case_add_note(
                    case=case, by=request.user, text=form.cleaned_data["text"]
                ),
            )
        except DomainError as exc:
            form.add_error("text", exc.message)
        else:
            messages.success(request, "已添加备注")
            form = NoteAddForm()
    context = _detail_context(request, case)
    context["note_form"] = form
    context["partial"] = bool(request.headers.get("HX-Request"))
    template = "cases/_detail_body.html" if context["partial"] else "cases/detail.html"
    return render(request, template, context)


def _replayed(request: HttpRequest, pk: int, message: str) -> HttpResponse:
    """The answer to a resent form: the case as it is now, or the list if it left view."""
    messages.info(request, message)
    case = _visible_cases(request).filter(pk=pk).first()
    partial = bool(request.headers.get("HX-Request"))
    if case is None:
        if not partial:
            return redirect("case_list")
        response = HttpResponse(status=204)
        response["HX-Redirect"] = reverse("case_list")
        return response
    context = _detail_context(request, case)
    context["partial"] = partial
    return render(request, "cases/_detail_body.html" if partial else "cases/detail.html", context)


@login_required
def case_register_view(request: HttpRequest) -> HttpResponse:
    """登记. From the desk: ``?person=<pk>`` (repeatable; shown as masked cards, not retyped),
    ``&related=<case>``, ``&visit=<DeskVisit>``, ``&booking=<id>``, ``&channel=…``
    (``xinfang.cases.desk_views`` has the 口径一致 panel and the desk helpers)."""
    from xinfang.cases import desk_views

    offices = policy.registering_offices(request.user)
    if not offices:
        raise Http404
    office = offices[0]
    desk_ctx: dict[str, Any]
    if request.method == "POST":
        form = CaseRegisterForm(request.POST, request.FILES, office=office)
        people = PersonFormSet(request.POST, prefix="p")
        reps = RepresentativeFormSet(request.POST, prefix="r")
        files = request.FILES.getlist("attachments")
        upload_errors = [e for e in (validate_upload(f) for f in files) if e]
        valid = form.is_valid() and people.is_valid() and reps.is_valid()
        for err in upload_errors:
            form.add_error("attachments", err)
        desk_ctx = desk_views.known_context(request, request.POST)
        if desk_ctx["known_error"]:
            form.add_error(None, desk_ctx["known_error"])
            valid = False
        d = form.cleaned_data if valid else {}
        if d.get("psych_referral") and not (d.get("psych_note") or "").strip():
            form.add_error("psych_note", "请填写转介心理疏导的情况说明")
            valid = False
        if valid and not upload_errors:
            d = form.cleaned_data
            reg = Registration(
                channel=d["channel"],
                purpose=d["purpose"],
                category_id=int(d["category"]) if d.get("category") else None,
                received_at=d["received_at"],
                headcount=d["headcount"],
                group_name=d.get("group_name") or "",
                place_code=d.get("place_code") or "",
                place_name=d.get("place_name") or _place_name(d.get("place_code") or ""),
                summary=d["summary"],
                content=d.get("content") or "",
                skip_level=d.get("skip_level") or False,
                petitioners=[],
                representatives=[p for p in (f.to_input() for f in reps.forms) if p],
                accused_unit_ids=d.get("accused_units") or [],
                accused_person_ids=d.get("accused_persons") or [],
                accused_text=d.get("accused_text") or "",
            )
            desk_views.fill_registration(request, reg, d, people, desk_ctx)
            now = timezone.now()
            try:
                # The case and its files are one submission: a file that cannot be stored
                # (refused, disk full) leaves no case without it.
                with transaction.atomic():
                    case = case_register(
                        by=request.user,
                        office=office,
                        reg=reg,
                        idempotency_key=d["idempotency_key"],
                        at=now,
                    )
                    if case.registered_at == now:  # not a replay of an earlier submission
                        for f in files:
                            attachment_add(case=case, by=request.user, upload=f)
                        desk_views.announce_desk(request, case, d)
            except DomainError as exc:
                _attach_error(desk_views.row_error(exc, desk_ctx), form, people, reps)
            else:
                if case.registered_at == now:
                    messages.success(request, f"已登记：{case.number}，查询码 {case.query_code}")
                else:
                    messages.info(request, f"该表单已提交过，未重复登记：{case.number}")
                return redirect("case_detail", pk=case.pk)
    else:
        desk_ctx = desk_views.known_context(request, request.GET, prefill=True)
        form = CaseRegisterForm(office=office, initial=desk_ctx["initial"])
        people = PersonFormSet(prefix="p")
        reps = RepresentativeFormSet(prefix="r")
    return render(
        request,
        "cases/register.html",
        {
            "form": form,
            "people": people,
            "reps": reps,
            "office": office,
            "places": _places(office),
            "desk_panel_first": desk_views.panel_first(request, desk_ctx, form),
            **desk_ctx,
        },
    )


def _places(office: Unit) -> list[Unit]:
    """Units with a division code in the office's jurisdiction, indented by depth."""
    root = jurisdiction_of(office)
    units = list(
        Unit.objects.filter(path__startswith=root.path, is_active=True)
        .exclude(division_code="")
        .order_by("path")
    )
    for u in units:
        u.indent = "　" * (u.depth - root.depth)  # type: ignore[attr-defined]
    return units


def _place_name(code: str) -> str:
    unit = Unit.objects.filter(division_code=code).first() if code else None
    return unit.name if unit else ""


def _attach_error(exc: DomainError, form: Any, people: Any, reps: Any) -> None:
    """Put a service error next to the field it concerns (p0_id_number → person row 0)."""
    field = exc.field or ""
    for prefix, formset in (("p", people), ("r", reps)):
        if field[:1] == prefix and "_" in field and field[1:].split("_", 1)[0].isdigit():
            index, name = field[1:].split("_", 1)
            i = int(index)
            if i < len(formset.forms) and name in formset.forms[i].fields:
                formset.forms[i].add_error(name, exc.message)
                return
    if field == "representatives":
        form.add_error(None, exc.message)
        return
    form.add_error(field if field in form.fields else None, exc.message)
