"""Pages of 接待台 (today's desk), 领导接待日 (days, bookings, records), 包案 and 值班领导.

Desk visits and reception days exist for a user only in their own offices (or, for a leader,
their own days): anything else is a 404. Cases are fetched through ``cases_visible_to``.
Refused input re-renders the form with what was typed and the service's message.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from xinfang.cases import deadlines
from xinfang.cases.models import Case
from xinfang.cases.policy import cases_visible_to, registering_offices
from xinfang.core.errors import DomainError
from xinfang.core.idempotency import form_key, post_fingerprint, replay_of, run_once
from xinfang.core.paging import paginate
from xinfang.core.text import clean_line
from xinfang.org import roles as R
from xinfang.org.models import Unit
from xinfang.org.policy import role_codes
from xinfang.people.services import PetitionerInput
from xinfang.reception import forms as F
from xinfang.reception import services as S
from xinfang.reception.models import (
    Booking,
    BookingState,
    DayState,
    DeskVisit,
    DutyRoster,
    ReceptionDay,
    VisitOutcome,
    VisitState,
)

PAGE_SIZE = 30
MAX_PK = 2**62


def _int(value: Any) -> int | None:
    try:
        n = int(value)
    except (TypeError, ValueError):
        return None
    return n if 0 < n < MAX_PK else None


def _office(request: HttpRequest) -> Unit:
    offices = registering_offices(request.user)
    if not offices:
        raise Http404
    wanted = _int(request.GET.get("office") or request.POST.get("office"))
    for o in offices:
        if o.pk == wanted:
            return o
    return offices[0]


def _apply_error(form: Form, exc: DomainError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


# --- today's desk -------------------------------------------------------------------------------


def _board_context(request: HttpRequest, office: Unit, error: str = "") -> dict[str, Any]:
    now = timezone.now()
    today = timezone.localdate()
    visits = list(
        DeskVisit.objects.filter(office=office, day=today)
        .select_related("clerk", "case")
        .order_by("ticket")
    )
    waiting = [v for v in visits if v.state == VisitState.WAITING]
    for v in waiting:
        v.wait_minutes = int((now - v.arrived_at).total_seconds() // 60)  # type: ignore[attr-defined]
    return {
        "office": office,
        "waiting": waiting,
        "serving": [v for v in visits if v.state == VisitState.IN_RECEPTION],
        "finished": [v for v in reversed(visits) if v.state in (VisitState.DONE, VisitState.LEFT)],
        "stats": S.desk_stats(office, today),
        "board_error": error,
        "today": today,
        "now": now,
    }


@login_required
def desk(request: HttpRequest) -> HttpResponse:
    office = _office(request)
    form = F.CheckInForm()
    if request.method == "POST":
        form = F.CheckInForm(request.POST)
        back = f"{reverse('reception_desk')}?office={office.pk}"
        # A double click (or a resubmitted page) issues one ticket, not two.
        key, fingerprint = form_key(request), post_fingerprint(request)
        scope = f"reception_checkin:{office.pk}"
        if replay_of(user=request.user, key=key, scope=scope, fingerprint=fingerprint):
            messages.info(request, "该取号已提交过，未重复取号")
            return redirect(back)
        if form.is_valid():
            data = form.cleaned_data
            try:
                once = run_once(
                    user=request.user,
                    key=key,
                    scope=scope,
                    fingerprint=fingerprint,
                    effect=lambda: S.visit_check_in(office=office, by=request.user, **data),
                )
            except DomainError as exc:
                _apply_error(form, exc)
            else:
                if once.value is not None:
                    messages.success(request, f"已取号：{once.value.ticket_label} 号")
                return redirect(back)
    context = _board_context(request, office)
    context.update({"form": form, "offices": registering_offices(request.user)})
    return render(request, "reception/desk.html", context)


@login_required
def board(request: HttpRequest) -> HttpResponse:
    return render(request, "reception/_board.html", _board_context(request, _office(request)))


def _visit(request: HttpRequest, pk: int) -> DeskVisit:
    return get_object_or_404(
        S.visits_visible_to(request.user).select_related("office", "clerk", "case", "petitioner"),
        pk=pk,
    )


def _board_answer(request: HttpRequest, visit: DeskVisit, error: str = "") -> HttpResponse:
    if request.headers.get("HX-Request"):
        return render(
            request, "reception/_board.html", _board_context(request, visit.office, error)
        )
    if error:
        messages.error(request, error)
    return redirect(f"{reverse('reception_desk')}?office={visit.office_id}")


@login_required
@require_POST
def visit_call(request: HttpRequest, pk: int) -> HttpResponse:
    visit = _visit(request, pk)
    try:
        S.visit_call(visit=visit, by=request.user)
    except DomainError as exc:
        return _board_answer(request, visit, exc.message)
    url = reverse("reception_visit", args=[visit.pk])
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


@login_required
@require_POST
def visit_leave(request: HttpRequest, pk: int) -> HttpResponse:
    visit = _visit(request, pk)
    try:
        S.visit_leave(visit=visit, by=request.user)
    except DomainError as exc:
        return _board_answer(request, visit, exc.message)
    return _board_answer(request, visit)


@login_required
def visit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    visit = _visit(request, pk)
    form = F.FinishForm()
    if request.method == "POST":
        form = F.FinishForm(request.POST)
        if form.is_valid():
            try:
                S.visit_finish(visit=visit, by=request.user, **form.cleaned_data)
            except DomainError as exc:
                _apply_error(form, exc)
            else:
                messages.success(request, f"{visit.ticket_label} 号接待完成")
                return redirect(f"{reverse('reception_desk')}?office={visit.office_id}")
    return render(request, "reception/visit.html", {"visit": visit, "form": form})


VISIT_STATES = {"": "全部状态"} | dict(VisitState.choices)
OUTCOMES = {"": "全部结果"} | dict(VisitOutcome.choices)


@login_required
def history(request: HttpRequest) -> HttpResponse:
    office = _office(request)
    rows = DeskVisit.objects.filter(office=office).select_related("clerk", "case")
    day_text = (request.GET.get("date") or "").strip()
    day = None
    if day_text:
        try:
            day = dt.date.fromisoformat(day_text)
        except ValueError:
            day = None
    if day is not None:
        rows = rows.filter(day=day)
    state = request.GET.get("state", "")
    if state in VisitState.values:
        rows = rows.filter(state=state)
    outcome = request.GET.get("outcome", "")
    if outcome in VisitOutcome.values:
        rows = rows.filter(outcome=outcome)
    q = clean_line(request.GET.get("q") or "")[:50]  # a NUL would be a 500 on PostgreSQL
    if q:
        rows = rows.filter(Q(visitor_name__icontains=q) | Q(note__icontains=q) | Q(case__number=q))
    page, query = paginate(request, rows.order_by("-day", "-ticket"), PAGE_SIZE)
    return render(
        request,
        "reception/history.html",
        {
            "office": office,
            "page": page,
            "query": query,
            "day": day_text,
            "state": state,
            "outcome": outcome,
            "q": q,
            "states": VISIT_STATES,
            "outcomes": OUTCOMES,
            "stats": S.desk_stats(office, day) if day else None,
        },
    )


# --- leader reception days --------------------------------------------------------------------


def _day(request: HttpRequest, pk: int) -> ReceptionDay:
    return get_object_or_404(
        S.days_visible_to(request.user).select_related("office", "leader"), pk=pk
    )


DAY_STATES = {"": "全部状态"} | dict(DayState.choices)


@login_required
def day_list(request: HttpRequest) -> HttpResponse:
    held = role_codes(request.user)
    if not held & (R.OFFICE_STAFF | {R.LEADER}):
        raise Http404
    rows = S.days_visible_to(request.user).select_related("office", "leader")
    month = (request.GET.get("month") or "").strip()
    if month:
        try:
            first = dt.date.fromisoformat(month + "-01")
        except ValueError:
            first = None
        if first is not None:
            rows = rows.filter(date__year=first.year, date__month=first.month)
    leader = _int(request.GET.get("leader"))
    if leader:
        rows = rows.filter(leader_id=leader)
    state = request.GET.get("state", "")
    if state in DayState.values:
        rows = rows.filter(state=state)
    page, query = paginate(request, rows.order_by("-date", "-start_time", "-id"), PAGE_SIZE)
    for d in page.object_list:
        d.booked = S.booked_heads(d)
    offices = registering_offices(request.user)
    leaders: dict[int, Any] = {}
    for o in offices:
        leaders.update({u.pk: u for u in S.leaders_over_office(o)})
    return render(
        request,
        "reception/days.html",
        {
            "page": page,
            "query": query,
            "month": month,
            "leader": leader,
            "state": state,
            "states": DAY_STATES,
            "leaders": sorted(leaders.values(), key=lambda u: u.username),
            "may_create": bool(offices),
        },
    )


def _day_form_values(form: F.DayForm) -> dict[str, Any]:
    values = dict(form.cleaned_data)
    pk = _int(values["leader"])
    values["leader"] = get_user_model().objects.filter(pk=pk).first() if pk else None
    return values


@login_required
def day_new(request: HttpRequest) -> HttpResponse:
    office = _office(request)
    leaders = list(S.leaders_over_office(office))
    form = F.DayForm(leaders=leaders, initial={"start_time": "09:00", "end_time": "11:30"})
    if request.method == "POST":
        form = F.DayForm(request.POST, leaders=leaders)
        # A double click (or a resubmitted page) plans one day, not two.
        key, fingerprint = form_key(request), post_fingerprint(request)
        scope = f"reception_day_new:{office.pk}"
        if replay_of(user=request.user, key=key, scope=scope, fingerprint=fingerprint):
            messages.info(request, "该接待日已提交过，未重复安排")
            return redirect("reception_days")
        if form.is_valid():
            values = _day_form_values(form)
            try:
                once = run_once(
                    user=request.user,
                    key=key,
                    scope=scope,
                    fingerprint=fingerprint,
                    effect=lambda: S.day_create(office=office, by=request.user, **values),
                )
            except DomainError as exc:
                _apply_error(form, exc)
            else:
                if once.value is None:  # the same submission, answered a moment ago
                    messages.info(request, "该接待日已提交过，未重复安排")
                    return redirect("reception_days")
                messages.success(request, "已安排领导接待日")
                return redirect("reception_day", pk=once.value.pk)
    return render(request, "reception/day_form.html", {"form": form, "office": office, "day": None})


@login_required
def day_edit(request: HttpRequest, pk: int) -> HttpResponse:
    day = _day(request, pk)
    if not S.may_manage_days(request.user, day.office):
        raise Http404
    leaders = list(S.leaders_over_office(day.office))
    initial = {
        "leader": str(day.leader_id),
        "date": day.date,
        "start_time": day.start_time,
        "end_time": day.end_time,
        "place": day.place,
        "topics": day.topics,
        "capacity": day.capacity,
        "note": day.note,
    }
    form = F.DayForm(leaders=leaders, initial=initial)
    if request.method == "POST":
        form = F.DayForm(request.POST, leaders=leaders)
        if form.is_valid():
            try:
                S.day_update(day=day, by=request.user, **_day_form_values(form))
            except DomainError as exc:
                _apply_error(form, exc)
            else:
                messages.success(request, "已保存")
                return redirect("reception_day", pk=day.pk)
    return render(
        request, "reception/day_form.html", {"form": form, "office": day.office, "day": day}
    )


@login_required
@require_POST
def day_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    day = _day(request, pk)
    try:
        S.day_cancel(day=day, by=request.user, note=request.POST.get("note", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "接待日已取消，预约随之取消")
    return redirect("reception_day", pk=day.pk)


def _day_context(request: HttpRequest, day: ReceptionDay, **extra: Any) -> dict[str, Any]:
    bookings = list(day.bookings.select_related("petitioner", "case").order_by("order"))
    may_manage = S.may_manage_days(request.user, day.office)
    return {
        "day": day,
        "bookings": bookings,
        "booked": S.booked_heads(day),
        "may_manage": may_manage,
        "may_record": may_manage or day.leader_id == request.user.pk,
        "booking_form": extra.pop("booking_form", None) or F.BookingForm(),
        "link_error": "",
        **extra,
    }


@login_required
def day_detail(request: HttpRequest, pk: int) -> HttpResponse:
    day = _day(request, pk)
    return render(request, "reception/day.html", _day_context(request, day))


def _case_by_number(user: Any, number: str) -> Case | None:
    number = (number or "").strip()
    if not number:
        return None
    return cases_visible_to(user).filter(number=number).first()


@login_required
@require_POST
def booking_new(request: HttpRequest, pk: int) -> HttpResponse:
    day = _day(request, pk)
    form = F.BookingForm(request.POST)
    # A double click books once: a visitor given by name only would otherwise become two
    # persons and two bookings (the duplicate check goes by person).
    key, fingerprint = form_key(request), post_fingerprint(request)
    scope = f"reception_booking_new:{day.pk}"
    if replay_of(user=request.user, key=key, scope=scope, fingerprint=fingerprint):
        messages.info(request, "该预约已提交过，未重复预约")
        return redirect("reception_day", pk=day.pk)
    if form.is_valid():
        data = form.cleaned_data
        case = None
        if data["case_number"]:
            case = _case_by_number(request.user, data["case_number"])
            if case is None:
                form.add_error("case_number", "未找到该编号的事项，或不在您的权限范围内")
        if not form.errors:
            person = None
            if data["name"] or data["id_number"] or data["phone"]:
                person = PetitionerInput(
                    name=data["name"], id_number=data["id_number"], phone=data["phone"]
                )
            try:
                once = run_once(
                    user=request.user,
                    key=key,
                    scope=scope,
                    fingerprint=fingerprint,
                    effect=lambda: S.booking_create(
                        day=day,
                        by=request.user,
                        topic=data["topic"],
                        headcount=data["headcount"],
                        person=person,
                        case=case,
                    ),
                )
            except DomainError as exc:
                _apply_error(form, exc)
            else:
                if once.value is None:
                    messages.info(request, "该预约已提交过，未重复预约")
                else:
                    messages.success(request, f"已预约：第 {once.value.order} 号")
                return redirect("reception_day", pk=day.pk)
    return render(request, "reception/day.html", _day_context(request, day, booking_form=form))


def _booking(request: HttpRequest, pk: int) -> Booking:
    return get_object_or_404(
        S.bookings_visible_to(request.user).select_related(
            "day", "day__office", "day__leader", "petitioner", "case"
        ),
        pk=pk,
    )


BOOKING_ACTIONS = {
    "arrive": (S.booking_arrive, "已签到"),
    "no_show": (S.booking_no_show, "已标记未到"),
    "cancel": (S.booking_cancel, "预约已取消"),
}


@login_required
@require_POST
def booking_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    booking = _booking(request, pk)
    if action not in BOOKING_ACTIONS:
        raise Http404
    service, ok = BOOKING_ACTIONS[action]
    try:
        service(booking=booking, by=request.user)  # type: ignore[operator]
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, ok)
    return redirect(f"{reverse('reception_day', args=[booking.day_id])}#booking-{booking.pk}")


@login_required
@require_POST
def booking_link(request: HttpRequest, pk: int) -> HttpResponse:
    booking = _booking(request, pk)
    form = F.LinkCaseForm(request.POST)
    error = ""
    if form.is_valid():
        case = _case_by_number(request.user, form.cleaned_data["case_number"])
        if case is None:
            error = "未找到该编号的事项，或不在您的权限范围内"
        else:
            try:
                S.booking_link_case(booking=booking, case=case, by=request.user)
            except DomainError as exc:
                error = exc.message
    else:
        error = "请填写事项编号"
    if error:
        messages.error(request, error)
    else:
        messages.success(request, "已关联事项")
    return redirect(f"{reverse('reception_day', args=[booking.day_id])}#booking-{booking.pk}")


@login_required
def booking_record(request: HttpRequest, pk: int) -> HttpResponse:
    booking = _booking(request, pk)
    if not S.may_record(request.user, booking):
        raise Http404
    form = F.RecordForm(initial={"attendees": booking.attendees})
    if request.method == "POST":
        form = F.RecordForm(request.POST)
        if form.is_valid():
            try:
                S.booking_record(booking=booking, by=request.user, **form.cleaned_data)
            except DomainError as exc:
                _apply_error(form, exc)
            else:
                messages.success(request, "领导接待记录已保存，并记入事项动态")
                return redirect("reception_booking_print", pk=booking.pk)
    return render(request, "reception/record.html", {"booking": booking, "form": form})


@login_required
def booking_print(request: HttpRequest, pk: int) -> HttpResponse:
    booking = _booking(request, pk)
    if booking.state != BookingState.RECEIVED:
        raise Http404
    return render(request, "reception/record_print.html", {"b": booking, "day": booking.day})


# --- 包案 ---------------------------------------------------------------------------------------


def _visible_case(request: HttpRequest, pk: int) -> Case:
    return get_object_or_404(
        cases_visible_to(request.user).select_related("office_unit", "handling_unit"), pk=pk
    )


@login_required
@require_POST
def owner_assign(request: HttpRequest, case_pk: int) -> HttpResponse:
    case = _visible_case(request, case_pk)
    leaders = S.owner_choices(case)
    form = F.OwnerForm(request.POST, leaders=leaders)
    if form.is_valid():
        leader = next((u for u in leaders if str(u.pk) == form.cleaned_data["leader"]), None)
        try:
            S.case_assign_owner(
                case=case, leader=leader, by=request.user, note=form.cleaned_data["note"]
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "已安排包案领导")
    else:
        messages.error(request, "请选择包案领导")
    return redirect("case_detail", pk=case.pk)


@login_required
@require_POST
def owner_end(request: HttpRequest, case_pk: int) -> HttpResponse:
    case = _visible_case(request, case_pk)
    try:
        S.case_end_owner(case=case, by=request.user, note=request.POST.get("note", "")[:300])
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已结束包案")
    return redirect("case_detail", pk=case.pk)


def owned_rows(user: Any, rows: list[Case]) -> list[Case]:
    today = timezone.localdate()
    due = deadlines.next_due_by_case([c.pk for c in rows])
    for c in rows:
        c.next_due = due.get(c.pk)  # type: ignore[attr-defined]
        c.dl_state = deadlines.state_of(c.next_due, today)  # type: ignore[attr-defined]
        c.dl_label = deadlines.STATE_LABELS[c.dl_state]  # type: ignore[attr-defined]
    return rows


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    if R.LEADER not in role_codes(request.user):
        raise Http404
    rows = S.owned_cases(request.user).select_related("handling_unit").order_by("-received_at")
    q = clean_line(request.GET.get("q") or "")[:50]
    if q:
        from xinfang.cases.confidential import search_guard

        # 检举控告件: found by number only, never by the words of the accusation (rule 4)
        rows = rows.filter(
            Q(number__icontains=q) | (Q(summary__icontains=q) & search_guard(request.user))
        )
    page, query = paginate(request, rows, PAGE_SIZE)
    owned_rows(request.user, list(page.object_list))
    return render(request, "reception/mine.html", {"page": page, "query": query, "q": q})


# --- 值班领导 ----------------------------------------------------------------------------------


@login_required
def duty(request: HttpRequest) -> HttpResponse:
    office = _office(request)
    leaders = list(S.leaders_over_office(office))
    form = F.RosterForm(leaders=leaders, initial={"day": timezone.localdate()})
    if request.method == "POST":
        form = F.RosterForm(request.POST, leaders=leaders)
        if form.is_valid():
            leader = next((u for u in leaders if str(u.pk) == form.cleaned_data["leader"]), None)
            try:
                S.roster_add(
                    office=office,
                    day=form.cleaned_data["day"],
                    leader=leader,
                    by=request.user,
                    note=form.cleaned_data["note"],
                )
            except DomainError as exc:
                _apply_error(form, exc)
            else:
                messages.success(request, "已排班")
                return redirect(f"{reverse('reception_duty')}?office={office.pk}")
    rows = DutyRoster.objects.filter(office=office).select_related("leader")
    if request.GET.get("all") != "1":
        rows = rows.filter(day__gte=timezone.localdate())
    page, query = paginate(request, rows.order_by("day", "id"), PAGE_SIZE)
    from xinfang.reception.duty import on_duty_leaders

    return render(
        request,
        "reception/duty.html",
        {
            "office": office,
            "form": form,
            "page": page,
            "query": query,
            "today_leaders": on_duty_leaders(office, timezone.localdate()),
        },
    )


@login_required
@require_POST
def duty_remove(request: HttpRequest, pk: int) -> HttpResponse:
    offices = [o.pk for o in registering_offices(request.user)]
    row = get_object_or_404(DutyRoster.objects.filter(office__in=offices), pk=pk)
    S.roster_remove(row=row, by=request.user)
    messages.success(request, "已撤销排班")
    return redirect(f"{reverse('reception_duty')}?office={row.office_id}")
