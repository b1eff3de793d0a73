"""台账 pages (helper A): list (+ HTMX partial, CSV export), register, detail with the contact
log, files and the 销号 panel, edit, the form posts, and the checked file download.

Thin: parse the form, call ``services``, render again with the user's values and the Chinese
message on the field. Items are fetched only through ``policy.disputes_visible_to``: another
unit's item is a 404; an act refused inside the scope is a 403 page (``PermissionDenied``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Case as CaseWhen
from django.db.models import Count, IntegerField, Q, QuerySet, Value, When
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseForbidden,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from xinfang.core.errors import DomainError, PermissionDenied
from xinfang.core.idempotency import form_key, post_fingerprint, replay_of, run_once
from xinfang.core.paging import paginate
from xinfang.prevention import rubric
from xinfang.prevention import services as S
from xinfang.prevention.dispute_forms import (
    ContactForm,
    DisputeFilterForm,
    DisputeForm,
    FileForm,
    StrikeDecisionForm,
    StrikeRequestForm,
)
from xinfang.prevention.models import (
    Dispute,
    DisputeAttachment,
    DisputeSource,
    DisputeState,
    RiskLevel,
)
from xinfang.prevention.policy import (
    approver_unit,
    disputes_visible_to,
    may_edit_dispute,
    may_use_prevention,
    scope_ids,
)

PAGE_SIZE = 30
RELATED = ("unit", "place_unit", "owner", "leader", "category", "case", "struck_by", "struck_unit")


# --- helpers -------------------------------------------------------------------------------


def _reader(request: HttpRequest) -> None:
    if not may_use_prevention(request.user):
        raise Http404


def _visible(request: HttpRequest, pk: int) -> Dispute:
    _reader(request)
    return get_object_or_404(disputes_visible_to(request.user).select_related(*RELATED), pk=pk)


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return HttpResponseForbidden(
        render_to_string("prevention/disputes/forbidden.html", {"message": message}, request)
    )


def _put_error(form: Any, exc: DomainError, aliases: dict[str, str] | None = None) -> None:
    field = {"files": "uploads", **(aliases or {})}.get(exc.field or "", exc.field)
    form.add_error(field if field in form.fields else None, exc.message)


def days_overdue(d: Dispute, today: dt.date) -> int:
    if d.state == DisputeState.STRUCK or d.due_on >= today:
        return 0
    return (today - d.due_on).days


def risk_rank() -> CaseWhen:
    return CaseWhen(
        When(risk_level=RiskLevel.CRITICAL, then=Value(0)),
        When(risk_level=RiskLevel.HIGH, then=Value(1)),
        When(risk_level=RiskLevel.MEDIUM, then=Value(2)),
        default=Value(3),
        output_field=IntegerField(),
    )


def filtered(user: Any, d: dict[str, Any], today: dt.date) -> tuple[QuerySet[Dispute], Any]:
    """The visible items matching the filters ``d`` (a cleaned ``DisputeFilterForm``), and the
    same without the state filter (for the per-state counts)."""
    qs = disputes_visible_to(user)
    ids = set(scope_ids(user))
    if d.get("risk"):
        qs = qs.filter(risk_level=d["risk"])
    if d.get("source"):
        qs = qs.filter(source=d["source"])
    if d.get("unit") and d["unit"] in ids:
        unit_path = S.Unit.objects.filter(pk=d["unit"]).values_list("path", flat=True).first()
        qs = qs.filter(unit__path__startswith=unit_path or "-")
    if d.get("place") and d["place"] in ids:
        place_path = S.Unit.objects.filter(pk=d["place"]).values_list("path", flat=True).first()
        qs = qs.filter(place_unit__path__startswith=place_path or "-")
    if d.get("category"):
        qs = qs.filter(category_id=d["category"])
    if d.get("due_from"):
        qs = qs.filter(due_on__gte=d["due_from"])
    if d.get("due_to"):
        qs = qs.filter(due_on__lte=d["due_to"])
    q = (d.get("q") or "").strip()
    if q:
        qs = qs.filter(
            Q(number__icontains=q)
            | Q(title__icontains=q)
            | Q(parties__icontains=q)
            | Q(place_text__icontains=q)
            | Q(place_unit__name__icontains=q)
        )
    unfiltered_state = qs
    state = d.get("state") or ""
    if state == "overdue":
        qs = qs.filter(state__in=[DisputeState.OPEN, DisputeState.PENDING], due_on__lt=today)
    elif state == "active":
        qs = qs.filter(state__in=[DisputeState.OPEN, DisputeState.PENDING])
    elif state:
        qs = qs.filter(state=state)
    return qs, unfiltered_state


def ordered(qs: QuerySet[Dispute]) -> QuerySet[Dispute]:
    """Risk first (重大 → 低), then the nearest due date; struck items last."""
    return qs.annotate(
        risk_rank=risk_rank(),
        struck_rank=CaseWhen(
            When(state=DisputeState.STRUCK, then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        ),
    ).order_by("struck_rank", "risk_rank", "due_on", "id")


def state_counts(qs: QuerySet[Dispute], today: dt.date) -> dict[str, int]:
    counts = {row["state"]: row["n"] for row in qs.values("state").annotate(n=Count("id"))}
    return {
        "all": sum(counts.values()),
        "open": counts.get(DisputeState.OPEN, 0),
        "pending": counts.get(DisputeState.PENDING, 0),
        "struck": counts.get(DisputeState.STRUCK, 0),
        "overdue": qs.filter(
            state__in=[DisputeState.OPEN, DisputeState.PENDING], due_on__lt=today
        ).count(),
    }


# --- list and export -----------------------------------------------------------------------


@login_required
@require_GET
def dispute_list(request: HttpRequest) -> HttpResponse:
    _reader(request)
    today = S.beijing_today()
    form = DisputeFilterForm(request.GET or None)
    d = form.cleaned_data if form.is_valid() else {}
    qs, all_states = filtered(request.user, d, today)
    page, query = paginate(request, ordered(qs).select_related(*RELATED), PAGE_SIZE)
    rows = list(page.object_list)
    for row in rows:
        row.late = days_overdue(row, today)  # type: ignore[attr-defined]
    from xinfang.prevention.dispute_forms import categories, scope_units

    context = {
        "pv_tab": "disputes",
        "form": form,
        "page": page,
        "rows": rows,
        "query": query,
        "counts": state_counts(all_states, today),
        "units": scope_units(request.user),
        "categories": categories(),
        "today": today,
        "export_query": request.GET.urlencode(),
    }
    template = (
        "prevention/disputes/_table.html"
        if request.headers.get("HX-Request")
        else "prevention/disputes/list.html"
    )
    return render(request, template, context)


EXPORT_HEADER = [
    "台账编号",
    "纠纷名称",
    "状态",
    "风险等级",
    "来源",
    "当事人",
    "涉及人数",
    "发生地",
    "具体地点",
    "纠纷类别",
    "责任单位",
    "责任人",
    "包案领导",
    "化解期限",
    "逾期天数",
    "登记时间",
    "销号时间",
    "销号审核单位",
]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv_lines(qs: QuerySet[Dispute], today: dt.date) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values: list[Any]) -> str:
        buffer.seek(0)
        buffer.truncate(0)
        writer.writerow([_cell(v) for v in values])
        return buffer.getvalue()

    yield "\ufeff" + line(["内部资料 注意保管", f"导出日期 {today.isoformat()}"])
    yield line(EXPORT_HEADER)
    for d in qs.iterator(chunk_size=500):
        yield line(
            [
                d.number,
                d.title,
                d.get_state_display(),
                d.get_risk_level_display(),
                d.get_source_display(),
                " / ".join(x.strip() for x in d.parties.splitlines() if x.strip()),
                d.headcount,
                d.place_unit.name,
                d.place_text,
                d.category.full_name if d.category else "",
                d.unit.name,
                S._name(d.owner),
                S._name(d.leader),
                d.due_on.isoformat(),
                days_overdue(d, today) or "",
                timezone.localtime(d.created_at).strftime("%Y-%m-%d %H:%M"),
                timezone.localtime(d.struck_at).strftime("%Y-%m-%d %H:%M") if d.struck_at else "",
                d.struck_unit.name if d.struck_unit else "",
            ]
        )


@login_required
@require_GET
def dispute_export(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered list as CSV (UTF-8 with BOM), marked 内部资料; one ``export`` audit row
    (filters without the search words, row count) before the first byte."""
    from xinfang.audit.services import audit_record

    _reader(request)
    today = S.beijing_today()
    form = DisputeFilterForm(request.GET or None)
    d = form.cleaned_data if form.is_valid() else {}
    qs, _ = filtered(request.user, d, today)
    count = qs.count()
    shown = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in d.items() if v}
    if shown.get("q"):
        shown["q"] = f"（检索词已隐去，{len(str(shown['q']))}字）"
    audit_record(
        action="export",
        actor=request.user,
        object_type="dispute",
        summary=f"导出矛盾纠纷排查台账（{count}条）",
        detail={"filters": shown, "rows": count, "format": "csv"},
        request=request,
    )
    rows = ordered(qs).select_related(*RELATED)
    response = StreamingHttpResponse(
        _csv_lines(rows, today), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = (
        f'attachment; filename="disputes-{stamp}.csv"; '
        f"filename*=UTF-8''{quote(f'矛盾纠纷排查台账-{stamp}.csv')}"
    )
    response["Cache-Control"] = "no-store, private"
    response["X-Export-Rows"] = str(count)
    return response


# --- register and edit ---------------------------------------------------------------------


def _prefill(request: HttpRequest) -> tuple[dict[str, Any], Any, Any]:
    """Initial values from ``?case=<id>`` (a visible case) or ``?report=<id>`` (a visible
    informant report); returns (initial, case, report). A 检举控告件 is ``DomainError``."""
    from xinfang.cases.policy import cases_visible_to
    from xinfang.prevention.policy import informant_reports_visible_to

    initial: dict[str, Any] = {"headcount": 1}
    case = report = None
    raw_case = request.GET.get("case") or request.POST.get("case") or ""
    raw_report = request.GET.get("report") or request.POST.get("report") or ""
    ids = set(scope_ids(request.user))
    if raw_case.isdigit():
        case = (
            cases_visible_to(request.user)
            .select_related("category", "handling_unit", "office_unit")
            .filter(pk=int(raw_case))
            .first()
        )
        if case is None:
            raise Http404
        S.check_case_source(case)  # a 检举控告件: nothing of it is copied
        people = list(case.petitioners.all())
        place = None
        if case.place_code:
            place = S.Unit.objects.filter(division_code=case.place_code, pk__in=ids).first()
        place = place or next(
            (u for u in (case.handling_unit, case.office_unit) if u and u.pk in ids), None
        )
        initial.update(
            title=case.summary[:100] if hasattr(case, "summary") else "",
            source=DisputeSource.PETITION,
            source_note=f"信访事项{case.number}",
            description=getattr(case, "summary", ""),
            parties="\n".join(
                f"{p.name} {getattr(p, 'phone_masked', '') or ''}".strip() for p in people
            ),
            headcount=max(getattr(case, "headcount", 1) or 1, len(people) or 1),
            place_text=case.place_name,
            category=case.category_id,
            signals=["already_petitioned"],
        )
        if place is not None:
            initial["place_unit"] = place.pk
            initial["unit"] = case.handling_unit_id if case.handling_unit_id in ids else place.pk
    elif raw_report.isdigit():
        report = (
            informant_reports_visible_to(request.user)
            .select_related("unit")
            .filter(pk=int(raw_report))
            .first()
        )
        if report is None:
            raise Http404
        initial.update(
            title=report.title,
            source=DisputeSource.INFORMANT,
            source_note=f"信息员报告#{report.pk}",
            description=report.text,
            headcount=report.headcount or 1,
            place_text=report.place_text,
            place_unit=report.unit_id,
            unit=report.unit_id,
        )
        signal = getattr(report, "signal", "")
        if signal:
            initial["signals"] = ["capital_signal" if "capital" in signal else "collective_signal"]
    return initial, case, report


def _rubric_context() -> dict[str, Any]:
    rows = [
        {"level": r.level, "label": r.label, "criteria": r.criteria, "due_days": r.due_days}
        for r in rubric.RUBRIC
    ]
    return {"rubric_rows": rows, "rubric_json": {r["level"]: r["due_days"] for r in rows}}


def _suggested(form: DisputeForm) -> str:
    flags = form.signal_flags() if hasattr(form, "cleaned_data") else {}
    return rubric.suggest_risk(headcount=form.cleaned_data.get("headcount") or 1, **flags)


@login_required
def dispute_new(request: HttpRequest) -> HttpResponse:
    _reader(request)
    try:
        initial, case, report = _prefill(request)
    except DomainError as exc:
        # Refused source (检举控告件): the blank form with the message, nothing prefilled.
        if request.method == "POST":
            refused = DisputeForm(request.POST, user=request.user)
            refused.is_valid()
            refused.add_error(None, exc.message)
        else:
            refused = DisputeForm(user=request.user, initial={"headcount": 1})
            messages.error(request, exc.message)
        context = {"pv_tab": "disputes", "form": refused, "new": True, **_rubric_context()}
        return render(request, "prevention/disputes/form.html", context, status=400)
    if request.method == "POST":
        form = DisputeForm(request.POST, user=request.user)
        if form.is_valid():
            c = form.cleaned_data
            suggested = _suggested(form)
            reason = (c.get("reason") or "").strip()
            if rubric.is_below(c["risk_level"], suggested) and len(reason) < S.REASON_MIN:
                form.add_error(
                    "reason",
                    f"按评定标准建议为「{RiskLevel(suggested).label}」风险；"
                    f"选择更低等级须说明理由（至少{S.REASON_MIN}个字）",
                )
            else:
                try:
                    with transaction.atomic():
                        dispute = S.dispute_create(
                            request.user,
                            title=c["title"],
                            description=c["description"],
                            source=c["source"],
                            parties=c["parties"],
                            place_unit=c["place_unit"],
                            unit=c["unit"],
                            risk_level=c["risk_level"],
                            headcount=c["headcount"],
                            due_on=c.get("due_on"),
                            category=c.get("category"),
                            owner=c.get("owner"),
                            leader=c.get("leader"),
                            plan=c.get("plan") or "",
                            place_text=c.get("place_text") or "",
                            source_note=c.get("source_note") or "",
                            case=case,
                            informant_report=report,
                            petitioners=list(case.petitioners.all()) if case else (),
                            idempotency_key=form_key(request) or None,
                        )
                        fresh = not dispute.events.filter(kind="risk").exists() and (
                            dispute.events.count() == 1
                        )
                        if fresh and (reason or c["risk_level"] != suggested):
                            S.add_event(
                                dispute,
                                "risk",
                                request.user,
                                text=reason,
                                data={"to": c["risk_level"], "suggested": suggested},
                            )
                except PermissionDenied as exc:
                    form.add_error("unit", exc.message)
                except DomainError as exc:
                    _put_error(form, exc)
                else:
                    if not disputes_visible_to(request.user).filter(pk=dispute.pk).exists():
                        raise Http404
                    messages.success(request, f"已登记台账事项 {dispute.number}")
                    return redirect("prevention_dispute", pk=dispute.pk)
    else:
        form = DisputeForm(user=request.user, initial=initial)
    context = {
        "pv_tab": "disputes",
        "form": form,
        "new": True,
        "case": case,
        "report": report,
        **_rubric_context(),
    }
    return render(request, "prevention/disputes/form.html", context)


@login_required
def dispute_edit(request: HttpRequest, pk: int) -> HttpResponse:
    dispute = _visible(request, pk)
    if not may_edit_dispute(request.user, dispute):
        return _forbidden(request, "只有责任单位、责任人、包案领导或上级信访部门可以修改此台账事项")
    if dispute.state == DisputeState.STRUCK:
        messages.error(request, S.STRUCK_READ_ONLY)
        return redirect("prevention_dispute", pk=dispute.pk)
    if request.method == "POST":
        form = DisputeForm(request.POST, user=request.user, new=False)
        if form.is_valid():
            c = form.cleaned_data
            fields = {name: c.get(name) for name in S.UPDATABLE}
            for name in ("place_text", "plan"):
                fields[name] = fields[name] or ""
            try:
                before = dispute.events.count()
                S.dispute_update(request.user, dispute, reason=c.get("reason") or "", **fields)
            except DomainError as exc:
                _put_error(form, exc)
            else:
                changed = dispute.events.count() > before
                messages.success(request, "已保存修改" if changed else "未作修改")
                return redirect("prevention_dispute", pk=dispute.pk)
    else:
        form = DisputeForm(
            user=request.user,
            new=False,
            initial={
                "title": dispute.title,
                "description": dispute.description,
                "parties": dispute.parties,
                "headcount": dispute.headcount,
                "place_text": dispute.place_text,
                "category": dispute.category_id,
                "risk_level": dispute.risk_level,
                "unit": dispute.unit_id,
                "owner": dispute.owner_id,
                "leader": dispute.leader_id,
                "plan": dispute.plan,
                "due_on": dispute.due_on,
            },
        )
    context = {
        "pv_tab": "disputes",
        "form": form,
        "new": False,
        "dispute": dispute,
        "suggested": S.facts_risk(dispute),
        **_rubric_context(),
    }
    return render(request, "prevention/disputes/form.html", context)


# --- detail and its forms ------------------------------------------------------------------


def _detail(
    request: HttpRequest, dispute: Dispute, status: int = 200, **forms: Any
) -> HttpResponse:
    user = request.user
    today = S.beijing_today()
    editable = dispute.state != DisputeState.STRUCK and may_edit_dispute(user, dispute)
    approver = (
        dispute.state == DisputeState.PENDING
        and approver_unit(user, dispute) is not None
        and dispute.requested_by_id != user.pk
    )
    events = list(dispute.events.select_related("actor", "actor_unit").order_by("at", "id"))
    contacts = [e for e in events if e.kind == "contact"]
    contacts.reverse()
    context = {
        "pv_tab": "disputes",
        "d": dispute,
        "late": days_overdue(dispute, today),
        "events": events,
        "contacts": contacts,
        "files": list(dispute.attachments.select_related("uploaded_by").order_by("uploaded_at")),
        "petitioners": list(dispute.petitioners.all()),
        "editable": editable,
        "approver": approver,
        "contact_form": forms.get("contact_form") or (ContactForm() if editable else None),
        "file_form": forms.get("file_form") or (FileForm() if editable else None),
        "strike_form": forms.get("strike_form")
        or (
            StrikeRequestForm(
                initial={"resolution": dispute.resolution, "evidence": dispute.evidence}
            )
            if editable and dispute.state == DisputeState.OPEN
            else None
        ),
        "decide_form": forms.get("decide_form") or (StrikeDecisionForm() if approver else None),
        "today": today,
        "rubric": rubric.BY_LEVEL[dispute.risk_level],
    }
    template = (
        "prevention/disputes/print.html"
        if request.GET.get("print") == "1"
        else "prevention/disputes/detail.html"
    )
    return render(request, template, context, status=status)


@login_required
def dispute_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the page (``?print=1``: the 台账 sheet). POST: upload evidence files."""
    dispute = _visible(request, pk)
    if request.method != "POST":
        return _detail(request, dispute)
    form = FileForm(request.POST, request.FILES)
    if form.is_valid():
        uploads = form.cleaned_data["uploads"]
        if not uploads:
            form.add_error("uploads", "请选择要上传的文件")
        else:
            try:
                for upload in uploads:
                    S.dispute_add_file(request.user, dispute, upload)
            except PermissionDenied as exc:
                return _forbidden(request, exc.message)
            except DomainError as exc:
                _put_error(form, exc)
            else:
                messages.success(request, f"已上传{len(uploads)}个材料")
                return redirect(f"/prevention/disputes/{dispute.pk}/#files")
    return _detail(request, dispute, file_form=form)


def _once(request: HttpRequest, scope: str, effect: Any) -> bool:
    """Run ``effect`` once per form key; True if this post was a replay."""
    key, fp = form_key(request), post_fingerprint(request)
    if replay_of(user=request.user, key=key, scope=scope, fingerprint=fp):
        return True
    run_once(user=request.user, key=key, scope=scope, fingerprint=fp, effect=effect)
    return False


@login_required
@require_POST
def dispute_contact(request: HttpRequest, pk: int) -> HttpResponse:
    dispute = _visible(request, pk)
    form = ContactForm(request.POST)
    if form.is_valid():
        c = form.cleaned_data
        at = c.get("at")
        if at is not None and timezone.is_naive(at):
            at = timezone.make_aware(at)
        try:
            replay = _once(
                request,
                f"dispute-contact:{dispute.pk}",
                lambda: S.dispute_contact(
                    request.user, dispute, c["method"], c["person"], c["note"], at=at
                ),
            )
        except PermissionDenied as exc:
            return _forbidden(request, exc.message)
        except DomainError as exc:
            _put_error(form, exc)
        else:
            messages.success(request, "该记录已提交过" if replay else "已记录联系情况")
            return redirect(f"/prevention/disputes/{dispute.pk}/#contacts")
    return _detail(request, dispute, contact_form=form)


@login_required
@require_POST
def dispute_request_strike(request: HttpRequest, pk: int) -> HttpResponse:
    dispute = _visible(request, pk)
    form = StrikeRequestForm(request.POST, request.FILES)
    if form.is_valid():
        c = form.cleaned_data
        try:
            replay = _once(
                request,
                f"dispute-strike-request:{dispute.pk}",
                lambda: S.dispute_request_strike(
                    request.user, dispute, c["resolution"], c.get("evidence") or "", c["uploads"]
                ),
            )
        except PermissionDenied as exc:
            return _forbidden(request, exc.message)
        except DomainError as exc:
            dispute.refresh_from_db()
            if dispute.state != DisputeState.OPEN:  # the form is no longer offered
                messages.error(request, exc.message)
                return redirect("prevention_dispute", pk=dispute.pk)
            _put_error(form, exc)
        else:
            messages.success(
                request, "该申请已提交过" if replay else "已报请销号，等待上一级单位审核"
            )
            return redirect("prevention_dispute", pk=dispute.pk)
    return _detail(request, dispute, strike_form=form)


@login_required
@require_POST
def dispute_decide_strike(request: HttpRequest, pk: int) -> HttpResponse:
    dispute = _visible(request, pk)
    form = StrikeDecisionForm(request.POST)
    if form.is_valid():
        approve = form.cleaned_data["decision"] == "approve"
        try:
            replay = _once(
                request,
                f"dispute-strike-decide:{dispute.pk}",
                lambda: S.dispute_decide_strike(
                    request.user, dispute, approve, form.cleaned_data.get("note") or ""
                ),
            )
        except PermissionDenied as exc:
            return _forbidden(request, exc.message)
        except DomainError as exc:
            _put_error(form, exc)
            dispute.refresh_from_db()
            if dispute.state != DisputeState.PENDING:
                messages.error(request, exc.message)
                return redirect("prevention_dispute", pk=dispute.pk)
        else:
            done = "已销号" if approve else "已退回，责任单位继续化解"
            messages.success(request, "该审核已提交过" if replay else done)
            return redirect("prevention_dispute", pk=dispute.pk)
    return _detail(request, dispute, decide_form=form)


@login_required
@require_GET
def dispute_file(request: HttpRequest, pk: int, file_pk: int) -> FileResponse:
    """Download an evidence file of a visible item; audited (``download``) first."""
    from xinfang.audit.services import audit_record
    from xinfang.cases.attachments import content_disposition

    dispute = _visible(request, pk)
    att = get_object_or_404(DisputeAttachment, pk=file_pk, dispute=dispute)
    try:
        handle = att.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404("文件在存储中不存在，请联系系统管理员") from None
    audit_record(
        action="download",
        actor=request.user,
        obj=att,
        summary=f"下载台账材料#{att.pk}（{dispute.number}）",
        detail={"dispute": dispute.number, "sha256": att.sha256, "size": att.size},
        request=request,
    )
    stem, ext = os.path.splitext(att.original_name)
    stored_ext = os.path.splitext(att.stored_name)[1]
    name = att.original_name if ext.lower() == stored_ext else f"{stem}{stored_ext}"
    response = FileResponse(handle, content_type=att.content_type)
    response["Content-Disposition"] = content_disposition(
        name, f"dispute-file-{att.pk}{stored_ext}"
    )
    response["Content-Length"] = str(att.size)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
