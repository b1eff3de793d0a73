"""接待台 (desk queue), 领导接待日 (days, bookings, records) and 包案 (``xinfang.reception``).

Same services as the pages. Desk visits and days exist for a user only in the petition offices
where they hold a desk post (a leader: their own days) — otherwise 404; cases through
``cases_visible_to``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Path, Query, Router, Schema
from ninja.responses import Status as WithStatus

from xinfang.api import access
from xinfang.api.auth import current_user
from xinfang.api.errors import READ_ERRORS, WRITE_ERRORS, NotFound
from xinfang.api.schemas import ID_MAX, DbId
from xinfang.cases.policy import cases_visible_to, registering_offices
from xinfang.people.services import PetitionerInput
from xinfang.reception import services as S
from xinfang.reception.models import Booking, DeskVisit, ReceptionDay, VisitOutcome, VisitState

router = Router(tags=["接待台与领导接待"])


class VisitOut(Schema):
    id: int
    office_id: int
    day: dt.date
    ticket: int
    visitor_name: str
    headcount: int
    note: str
    state: str
    outcome: str
    arrived_at: dt.datetime
    called_at: dt.datetime | None
    finished_at: dt.datetime | None
    clerk: str
    case_id: int | None


class CheckInIn(Schema):
    office_id: DbId | None = Field(None, description="信访机构 ID；默认为您的第一个接待岗位单位")
    visitor_name: str = Field("", max_length=50)
    headcount: int = Field(1, ge=1, le=999)
    note: str = Field("", max_length=300)


class FinishIn(Schema):
    outcome: VisitOutcome = Field(description="answered/referred/left（registered 由登记自动完成）")
    note: str = Field("", max_length=300)


class StatsOut(Schema):
    waiting: int
    in_reception: int
    done: int
    left: int
    total: int
    avg_wait_minutes: float | None
    avg_reception_minutes: float | None


class DayOut(Schema):
    id: int
    office_id: int
    leader_id: int
    leader: str
    date: dt.date
    start_time: dt.time
    end_time: dt.time
    place: str
    topics: str
    capacity: int
    state: str


class DayIn(Schema):
    office_id: DbId | None = None
    leader_id: DbId
    date: dt.date
    start_time: dt.time
    end_time: dt.time
    place: str = Field(max_length=100)
    topics: str = Field("", max_length=300)
    capacity: int = Field(10, ge=1, le=500)
    note: str = Field("", max_length=300)


class BookingOut(Schema):
    id: int
    day_id: int
    order: int
    petitioner_id: int
    name: str
    topic: str
    headcount: int
    state: str
    case_id: int | None
    record: str


class BookingIn(Schema):
    name: str = Field("", max_length=50)
    id_number: str = Field("", max_length=30)
    phone: str = Field("", max_length=30)
    case_id: DbId | None = Field(None, description="已登记的事项（信访人取其第一信访人）")
    topic: str = Field(max_length=300)
    headcount: int = Field(1, ge=1, le=999)


class LinkIn(Schema):
    case_id: DbId


class RecordIn(Schema):
    record: str = Field(max_length=4000, description="领导意见/批示")
    attendees: str = Field("", max_length=300)


class OwnerIn(Schema):
    leader_id: DbId
    note: str = Field("", max_length=300)


class OwnerEndIn(Schema):
    note: str = Field("", max_length=300)


class OwnerOut(Schema):
    id: int
    case_id: int
    leader_id: int
    leader: str
    since: dt.datetime
    ended_at: dt.datetime | None


def _name(u: Any) -> str:
    return (u.get_full_name() or u.username) if u is not None else ""


def _visit(v: DeskVisit) -> dict[str, Any]:
    return {
        "id": v.pk,
        "office_id": v.office_id,
        "day": v.day,
        "ticket": v.ticket,
        "visitor_name": v.visitor_name,
        "headcount": v.headcount,
        "note": v.note,
        "state": v.state,
        "outcome": v.outcome,
        "arrived_at": v.arrived_at,
        "called_at": v.called_at,
        "finished_at": v.finished_at,
        "clerk": _name(v.clerk),
        "case_id": v.case_id,
    }


def _day(d: ReceptionDay) -> dict[str, Any]:
    return {
        "id": d.pk,
        "office_id": d.office_id,
        "leader_id": d.leader_id,
        "leader": _name(d.leader),
        "date": d.date,
        "start_time": d.start_time,
        "end_time": d.end_time,
        "place": d.place,
        "topics": d.topics,
        "capacity": d.capacity,
        "state": d.state,
    }


def _booking(b: Booking) -> dict[str, Any]:
    return {
        "id": b.pk,
        "day_id": b.day_id,
        "order": b.order,
        "petitioner_id": b.petitioner_id,
        "name": b.petitioner.name,
        "topic": b.topic,
        "headcount": b.headcount,
        "state": b.state,
        "case_id": b.case_id,
        "record": b.record,
    }


def _office(request: HttpRequest, office_id: int | None) -> Any:
    offices = registering_offices(current_user(request))
    if office_id is None and offices:
        return offices[0]
    for o in offices:
        if o.pk == office_id:
            return o
    raise NotFound("未找到该信访机构（不存在或您在该单位没有接待岗位）")


def _visit_or_404(request: HttpRequest, visit_id: int) -> DeskVisit:
    return access.row_or_404(
        S.visits_visible_to(current_user(request)).select_related("office", "clerk"),
        visit_id,
        "未找到该来访（不存在或不在您的权限范围内）",
    )


def _day_or_404(request: HttpRequest, day_id: int) -> ReceptionDay:
    return access.row_or_404(
        S.days_visible_to(current_user(request)).select_related("office", "leader"),
        day_id,
        "未找到该接待日（不存在或不在您的权限范围内）",
    )


def _booking_or_404(request: HttpRequest, booking_id: int) -> Booking:
    return access.row_or_404(
        S.bookings_visible_to(current_user(request)).select_related(
            "day", "day__office", "day__leader", "petitioner"
        ),
        booking_id,
        "未找到该预约（不存在或不在您的权限范围内）",
    )


VisitId = Path(..., ge=1, le=ID_MAX)


@router.get(
    "/reception/visits",
    response={200: list[VisitOut], **READ_ERRORS},
    summary="接待台来访列表（默认今天）",
    operation_id="reception_visits",
)
def visits(
    request: HttpRequest,
    office_id: int | None = Query(None, ge=1, le=ID_MAX),
    date: dt.date | None = None,
    state: str = Query("", max_length=20, description="waiting/in_reception/done/left"),
    limit: int = Query(100, ge=1, le=500),
    offset: int = Query(0, ge=0, le=1_000_000),
) -> Any:
    office = _office(request, office_id)
    qs = DeskVisit.objects.filter(office=office, day=date or timezone.localdate())
    if state in VisitState.values:
        qs = qs.filter(state=state)
    qs = qs.select_related("clerk").order_by("ticket")
    return [_visit(v) for v in qs[offset : offset + limit]]


@router.get(
    "/reception/stats",
    response={200: StatsOut, **READ_ERRORS},
    summary="接待台当日统计（人数、平均等候与接待时长，分钟）",
    operation_id="reception_stats",
)
def stats(
    request: HttpRequest,
    office_id: int | None = Query(None, ge=1, le=ID_MAX),
    date: dt.date | None = None,
) -> Any:
    office = _office(request, office_id)
    return S.desk_stats(office, date or timezone.localdate()).__dict__


@router.post(
    "/reception/visits",
    response={201: VisitOut, **WRITE_ERRORS},
    summary="取号",
    operation_id="reception_check_in",
    description=S.visit_check_in.__doc__ or "",
)
def check_in(request: HttpRequest, body: CheckInIn) -> Any:
    office = _office(request, body.office_id)
    v = S.visit_check_in(
        office=office,
        by=current_user(request),
        visitor_name=body.visitor_name,
        headcount=body.headcount,
        note=body.note,
    )
    return WithStatus(201, _visit(v))


@router.post(
    "/reception/visits/{visit_id}/call",
    response={200: VisitOut, **WRITE_ERRORS},
    summary="叫号/开始接待",
    operation_id="reception_call",
    description=S.visit_call.__doc__ or "",
)
def call(request: HttpRequest, visit_id: int = VisitId) -> Any:
    v = S.visit_call(visit=_visit_or_404(request, visit_id), by=current_user(request))
    return _visit(v)


@router.post(
    "/reception/visits/{visit_id}/finish",
    response={200: VisitOut, **WRITE_ERRORS},
    summary="完成接待",
    operation_id="reception_finish",
    description=S.visit_finish.__doc__ or "",
)
def finish(request: HttpRequest, body: FinishIn, visit_id: int = VisitId) -> Any:
    v = S.visit_finish(
        visit=_visit_or_404(request, visit_id),
        by=current_user(request),
        outcome=body.outcome.value,
        note=body.note,
    )
    return _visit(v)


@router.post(
    "/reception/visits/{visit_id}/leave",
    response={200: VisitOut, **WRITE_ERRORS},
    summary="离开未接待",
    operation_id="reception_leave",
    description=S.visit_leave.__doc__ or "",
)
def leave(request: HttpRequest, visit_id: int = VisitId) -> Any:
    v = S.visit_leave(visit=_visit_or_404(request, visit_id), by=current_user(request))
    return _visit(v)


@router.get(
    "/reception/days",
    response={200: list[DayOut], **READ_ERRORS},
    summary="领导接待日列表",
    operation_id="reception_days",
)
def days(
    request: HttpRequest,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0, le=1_000_000),
) -> Any:
    qs = S.days_visible_to(current_user(request)).select_related("leader")
    if date_from:
        qs = qs.filter(date__gte=date_from)
    if date_to:
        qs = qs.filter(date__lte=date_to)
    return [_day(d) for d in qs.order_by("-date", "-start_time", "-id")[offset : offset + limit]]


@router.post(
    "/reception/days",
    response={201: DayOut, **WRITE_ERRORS},
    summary="安排领导接待日",
    operation_id="reception_day_create",
    description=S.day_create.__doc__ or "",
)
def day_create(request: HttpRequest, body: DayIn) -> Any:
    office = _office(request, body.office_id)
    leader = get_user_model().objects.filter(pk=body.leader_id).first()
    d = S.day_create(
        office=office,
        by=current_user(request),
        leader=leader,
        date=body.date,
        start_time=body.start_time,
        end_time=body.end_time,
        place=body.place,
        topics=body.topics,
        capacity=body.capacity,
        note=body.note,
    )
    return WithStatus(201, _day(d))


@router.get(
    "/reception/days/{day_id}/bookings",
    response={200: list[BookingOut], **READ_ERRORS},
    summary="接待日的预约（按顺序）",
    operation_id="reception_day_bookings",
)
def day_bookings(request: HttpRequest, day_id: int = Path(..., ge=1, le=ID_MAX)) -> Any:
    d = _day_or_404(request, day_id)
    return [_booking(b) for b in d.bookings.select_related("petitioner").order_by("order")]


@router.post(
    "/reception/days/{day_id}/bookings",
    response={201: BookingOut, **WRITE_ERRORS},
    summary="预约领导接待",
    operation_id="reception_book",
    description=S.booking_create.__doc__ or "",
)
def book(request: HttpRequest, body: BookingIn, day_id: int = Path(..., ge=1, le=ID_MAX)) -> Any:
    d = _day_or_404(request, day_id)
    user = current_user(request)
    case = None
    if body.case_id is not None:
        case = cases_visible_to(user).filter(pk=body.case_id).first()
        if case is None:
            raise NotFound()
    person = None
    if body.name or body.id_number or body.phone:
        person = PetitionerInput(name=body.name, id_number=body.id_number, phone=body.phone)
    b = S.booking_create(
        day=d, by=user, topic=body.topic, headcount=body.headcount, person=person, case=case
    )
    return WithStatus(201, _booking(b))


@router.post(
    "/reception/bookings/{booking_id}/arrive",
    response={200: BookingOut, **WRITE_ERRORS},
    summary="预约签到",
    operation_id="reception_booking_arrive",
    description=S.booking_arrive.__doc__ or "",
)
def arrive(request: HttpRequest, booking_id: int = Path(..., ge=1, le=ID_MAX)) -> Any:
    b = S.booking_arrive(booking=_booking_or_404(request, booking_id), by=current_user(request))
    return _booking(b)


@router.post(
    "/reception/bookings/{booking_id}/case",
    response={200: BookingOut, **WRITE_ERRORS},
    summary="预约关联已有事项",
    operation_id="reception_booking_link",
    description=S.booking_link_case.__doc__ or "",
)
def link(request: HttpRequest, body: LinkIn, booking_id: int = Path(..., ge=1, le=ID_MAX)) -> Any:
    b = _booking_or_404(request, booking_id)
    case = access.case_or_404(request, body.case_id)
    return _booking(S.booking_link_case(booking=b, case=case, by=current_user(request)))


@router.post(
    "/reception/bookings/{booking_id}/record",
    response={200: BookingOut, **WRITE_ERRORS},
    summary="领导接待记录",
    operation_id="reception_booking_record",
    description=S.booking_record.__doc__ or "",
)
def record(
    request: HttpRequest, body: RecordIn, booking_id: int = Path(..., ge=1, le=ID_MAX)
) -> Any:
    b = _booking_or_404(request, booking_id)
    S.booking_record(
        booking=b, by=current_user(request), record=body.record, attendees=body.attendees
    )
    b.refresh_from_db()
    return _booking(b)


def _owner(o: Any) -> dict[str, Any]:
    return {
        "id": o.pk,
        "case_id": o.case_id,
        "leader_id": o.leader_id,
        "leader": _name(o.leader),
        "since": o.since,
        "ended_at": o.ended_at,
    }


@router.post(
    "/cases/{case_id}/owner",
    response={201: OwnerOut, **WRITE_ERRORS},
    summary="包案：安排包案领导",
    operation_id="case_assign_owner",
    description=S.case_assign_owner.__doc__ or "",
)
def owner_assign(request: HttpRequest, case_id: int, body: OwnerIn) -> Any:
    case = access.case_or_404(request, case_id)
    leader = get_user_model().objects.filter(pk=body.leader_id, is_active=True).first()
    if leader is None:
        from xinfang.core.errors import DomainError

        raise DomainError("包案领导不存在", field="leader_id")
    o = S.case_assign_owner(case=case, leader=leader, by=current_user(request), note=body.note)
    return WithStatus(201, _owner(o))


@router.post(
    "/cases/{case_id}/owner/end",
    response={200: OwnerOut, **WRITE_ERRORS},
    summary="结束包案",
    operation_id="case_end_owner",
    description=S.case_end_owner.__doc__ or "",
)
def owner_end(request: HttpRequest, case_id: int, body: OwnerEndIn) -> Any:
    case = access.case_or_404(request, case_id)
    return _owner(S.case_end_owner(case=case, by=current_user(request), note=body.note))
