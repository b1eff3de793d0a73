"""接待台与领导接待 services: one function per state change.

Each one: guard (who may, which state, field rules) → conditional UPDATE on the state (of two
clerks clicking at once only one wins; the other gets a clear message) → ``CaseEvent`` where a
case is touched — in one transaction. Views, the API and the signal receivers call these.

Who:
- the desk (取号/叫号/完成): 接待员/办案员 of the petition office itself;
- reception days and bookings: 接待员/办案员 of the day's office; the day's leader may record
  the reception (领导接待记录) and sees their own days;
- 包案: the registering office's 办案员 assigns a leader over the case; a 领导 may take a case
  in their area (themselves only); the owning leader or the office's 办案员 ends it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet, Sum
from django.utils import timezone

from xinfang.cases.models import Case, CaseEvent
from xinfang.cases.policy import cases_visible_to, may_register, registering_offices
from xinfang.core.errors import ConcurrentChange, DomainError, PermissionDenied
from xinfang.core.text import clean_line, clean_text
from xinfang.org import roles as R
from xinfang.org.models import Unit
from xinfang.org.policy import holds_role_over, posts_of
from xinfang.people.models import Petitioner
from xinfang.people.services import PetitionerInput, clean_petitioner, petitioner_resolve
from xinfang.reception.models import (
    ACTIVE_BOOKING_STATES,
    Booking,
    BookingState,
    CaseOwnership,
    DayState,
    DeskCounter,
    DeskVisit,
    DutyRoster,
    ReceptionDay,
    VisitOutcome,
    VisitState,
)

HEADCOUNT_MAX = 999
CAPACITY_MAX = 500
RECORD_MAX = 4000


def _now(at: dt.datetime | None) -> dt.datetime:
    return at or timezone.now()


def _line(value: str, field: str, what: str, max_len: int, *, required: bool = False) -> str:
    value = clean_line(value or "").strip()
    if required and not value:
        raise DomainError(f"请填写{what}", field=field)
    if len(value) > max_len:
        raise DomainError(f"{what}不能超过 {max_len} 字（现为 {len(value)} 字）", field=field)
    return value


def _headcount(value: Any, field: str = "headcount") -> int:
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise DomainError("人数须为整数", field=field) from None
    if not 1 <= n <= HEADCOUNT_MAX:
        raise DomainError(f"人数须在 1–{HEADCOUNT_MAX} 之间", field=field)
    return n


# --- who ----------------------------------------------------------------------------------


def _require_desk(user: Any, office: Unit) -> None:
    if not may_register(user, office):
        raise PermissionDenied(f"您不是{office.name}的接待员或办案员，不能办理该操作")


def leaders_over_office(office: Unit) -> QuerySet[Any]:
    """Active users holding 领导 in the office or a unit above it."""
    prefixes = [office.path[: i + 1] for i, ch in enumerate(office.path) if ch == "."]
    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            memberships__role__code=R.LEADER,
            memberships__unit__path__in=prefixes,
        )
        .distinct()
        .order_by("username")
    )


def is_leader_over(user: Any, unit: Unit | None) -> bool:
    if unit is None:
        return False
    return any(p.role == R.LEADER and unit.path.startswith(p.unit_path) for p in posts_of(user))


# --- today's desk ---------------------------------------------------------------------------


def visits_visible_to(user: Any) -> QuerySet[DeskVisit]:
    """Desk visits of the offices where the user holds a desk post; other offices' are 404."""
    return DeskVisit.objects.filter(office__in=[o.pk for o in registering_offices(user)])


def _next_ticket(office: Unit, day: dt.date) -> int:
    """Gap-free per office and day: an UPDATE takes the row lock, so two clerks at once get
    distinct numbers; the row is created on the first ticket of the day."""
    for _attempt in range(3):
        if DeskCounter.objects.filter(office=office, day=day).update(last=F("last") + 1):
            return DeskCounter.objects.values_list("last", flat=True).get(office=office, day=day)
        try:
            with transaction.atomic():
                DeskCounter.objects.create(office=office, day=day, last=1)
            return 1
        except IntegrityError:
            continue  # another clerk created the row a moment ago: increment theirs
    raise IntegrityError("desk counter could not be created")


def visit_check_in(
    *,
    office: Unit,
    by: Any,
    visitor_name: str = "",
    headcount: Any = 1,
    note: str = "",
    at: dt.datetime | None = None,
) -> DeskVisit:
    """取号: a walk-in arrives at the desk.

    Guard: ``by`` holds 接待员/办案员 in the petition office. Effect: a waiting ``DeskVisit`` with
    the next gap-free ticket number of the office's day. Event: none (no case yet)."""
    _require_desk(by, office)
    name = _line(visitor_name, "visitor_name", "来访人姓名", 50)
    count = _headcount(headcount)
    note = _line(note, "note", "备注", 300)
    now = _now(at)
    day = timezone.localtime(now).date()
    with transaction.atomic():
        ticket = _next_ticket(office, day)
        return DeskVisit.objects.create(
            office=office,
            day=day,
            ticket=ticket,
            visitor_name=name,
            headcount=count,
            note=note,
            arrived_at=now,
            checked_in_by=by,
        )


def _taken(visit: DeskVisit) -> ConcurrentChange:
    visit.refresh_from_db()
    if visit.state == VisitState.IN_RECEPTION:
        return ConcurrentChange("该来访人已由他人接待", field="state")
    return ConcurrentChange(
        f"该来访人当前状态为「{visit.get_state_display()}」，不能再办理该操作", field="state"
    )


def visit_call(*, visit: DeskVisit, by: Any, at: dt.datetime | None = None) -> DeskVisit:
    """叫号/开始接待.

    Guard: desk post in the visit's office; the visit is waiting. Effect: conditional UPDATE
    waiting → in_reception with the clerk and ``called_at``. Event: none."""
    _require_desk(by, visit.office)
    now = _now(at)
    with transaction.atomic():
        n = DeskVisit.objects.filter(pk=visit.pk, state=VisitState.WAITING).update(
            state=VisitState.IN_RECEPTION, clerk=by, called_at=now
        )
        if not n:
            raise _taken(visit)
    visit.refresh_from_db()
    return visit


def visit_finish(
    *,
    visit: DeskVisit,
    by: Any,
    outcome: str,
    note: str = "",
    at: dt.datetime | None = None,
) -> DeskVisit:
    """完成接待 with an outcome (已登记/当场答复/引导至他处/离开).

    Guard: desk post in the office; the visit is in reception; 已登记 needs a linked case
    (registration from the visit links it by itself). Effect: conditional UPDATE
    in_reception → done. Event: none."""
    _require_desk(by, visit.office)
    if outcome not in VisitOutcome.values:
        raise DomainError("请选择接待结果", field="outcome")
    note = _line(note, "note", "结果说明", 300)
    if outcome == VisitOutcome.REGISTERED and visit.case_id is None:
        raise DomainError(
            "「已登记」须从本来访登记新事项（登记后自动完成）；请选择其他结果", field="outcome"
        )
    now = _now(at)
    with transaction.atomic():
        n = DeskVisit.objects.filter(pk=visit.pk, state=VisitState.IN_RECEPTION).update(
            state=VisitState.DONE, outcome=outcome, outcome_note=note, finished_at=now
        )
        if not n:
            visit.refresh_from_db()
            raise ConcurrentChange(
                f"该来访当前状态为「{visit.get_state_display()}」，不能完成接待", field="state"
            )
    visit.refresh_from_db()
    return visit


def visit_leave(*, visit: DeskVisit, by: Any, at: dt.datetime | None = None) -> DeskVisit:
    """离开未接待: a waiting visitor left before being called.

    Guard: desk post; the visit is waiting. Effect: waiting → left (outcome 离开). Event: none."""
    _require_desk(by, visit.office)
    now = _now(at)
    with transaction.atomic():
        n = DeskVisit.objects.filter(pk=visit.pk, state=VisitState.WAITING).update(
            state=VisitState.LEFT, outcome=VisitOutcome.LEFT, finished_at=now
        )
        if not n:
            raise _taken(visit)
    visit.refresh_from_db()
    return visit


def visit_link_case(*, visit_id: int, case: Case, by: Any, at: dt.datetime | None = None) -> bool:
    """The case registered from a desk visit (``desk_case_registered``).

    Guard: the visit belongs to the case's registering office and is waiting or in reception
    (otherwise nothing happens). Effect: visit.case = case, done with outcome 已登记 (and the
    first petitioner linked). Event: none (the registration writes its own)."""
    if not isinstance(visit_id, int) or not 0 < visit_id < 2**62:
        return False
    now = _now(at)
    person = case.parties.order_by("order", "id").values_list("petitioner_id", flat=True).first()
    n = DeskVisit.objects.filter(
        pk=visit_id,
        office_id=case.office_unit_id,
        state__in=[VisitState.WAITING, VisitState.IN_RECEPTION],
    ).update(
        state=VisitState.DONE,
        outcome=VisitOutcome.REGISTERED,
        case=case,
        petitioner_id=person,
        finished_at=now,
    )
    if n:  # called straight from the waiting column: reception starts now, by the registrar
        DeskVisit.objects.filter(pk=visit_id, called_at__isnull=True).update(
            called_at=now, clerk=by
        )
    return bool(n)


@dataclass
class DeskStats:
    waiting: int
    in_reception: int
    done: int
    left: int
    total: int
    avg_wait_minutes: float | None
    avg_reception_minutes: float | None


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def desk_stats(office: Unit, day: dt.date) -> DeskStats:
    """Today's counts; average waiting (called_at − arrived_at over the day's called visits)
    and reception time (finished_at − called_at over the finished ones), in minutes."""
    rows = list(
        DeskVisit.objects.filter(office=office, day=day).values_list(
            "state", "arrived_at", "called_at", "finished_at"
        )
    )
    counts = {s: 0 for s in VisitState.values}
    waits: list[float] = []
    receptions: list[float] = []
    for state, arrived, called, finished in rows:
        counts[state] += 1
        if called is not None:
            waits.append((called - arrived).total_seconds())
            if finished is not None and state == VisitState.DONE:
                receptions.append((finished - called).total_seconds())
    return DeskStats(
        waiting=counts[VisitState.WAITING],
        in_reception=counts[VisitState.IN_RECEPTION],
        done=counts[VisitState.DONE],
        left=counts[VisitState.LEFT],
        total=len(rows),
        avg_wait_minutes=_minutes(sum(waits) / len(waits)) if waits else None,
        avg_reception_minutes=_minutes(sum(receptions) / len(receptions)) if receptions else None,
    )


# --- leader reception days ------------------------------------------------------------------


def may_manage_days(user: Any, office: Unit) -> bool:
    return may_register(user, office)


def days_visible_to(user: Any) -> QuerySet[ReceptionDay]:
    """Office staff: their offices' days; leaders: their own days."""
    offices = [o.pk for o in registering_offices(user)]
    return ReceptionDay.objects.filter(Q(office__in=offices) | Q(leader_id=user.pk))


def _day_fields(office: Unit, values: dict[str, Any]) -> dict[str, Any]:
    leader = values.get("leader")
    if leader is None or not leaders_over_office(office).filter(pk=leader.pk).exists():
        raise DomainError(f"接待领导须是{office.name}或其上级单位的领导", field="leader")
    date = values.get("date")
    if not isinstance(date, dt.date):
        raise DomainError("请填写接待日期", field="date")
    start, end = values.get("start_time"), values.get("end_time")
    if not isinstance(start, dt.time) or not isinstance(end, dt.time):
        raise DomainError("请填写开始和结束时间", field="start_time")
    if end <= start:
        raise DomainError("结束时间须晚于开始时间", field="end_time")
    try:
        capacity = int(values.get("capacity") or 0)
    except (TypeError, ValueError):
        capacity = 0
    if not 1 <= capacity <= CAPACITY_MAX:
        raise DomainError(f"预约名额须在 1–{CAPACITY_MAX} 人之间", field="capacity")
    return {
        "leader": leader,
        "date": date,
        "start_time": start,
        "end_time": end,
        "place": _line(values.get("place", ""), "place", "接待地点", 100, required=True),
        "topics": _line(values.get("topics", ""), "topics", "接待主题", 300),
        "capacity": capacity,
        "note": _line(values.get("note", ""), "note", "说明", 300),
    }


def day_create(
    *, office: Unit, by: Any, at: dt.datetime | None = None, **values: Any
) -> ReceptionDay:
    """Plan a 领导接待日.

    Guard: desk post in the office; the leader is a 领导 over the office; the date is not in
    the past. Effect: a planned ``ReceptionDay``. Event: none (no case)."""
    _require_desk(by, office)
    fields = _day_fields(office, values)
    now = _now(at)
    if fields["date"] < timezone.localtime(now).date():
        raise DomainError("接待日期不能早于今天", field="date")
    with transaction.atomic():
        return ReceptionDay.objects.create(office=office, created_by=by, created_at=now, **fields)


def booked_heads(day: ReceptionDay) -> int:
    return int(
        day.bookings.filter(state__in=ACTIVE_BOOKING_STATES).aggregate(n=Sum("headcount"))["n"] or 0
    )


def day_update(*, day: ReceptionDay, by: Any, **values: Any) -> ReceptionDay:
    """Edit a planned day.

    Guard: desk post in the day's office; the day is planned; the capacity is not below the
    persons already booked. Effect: the fields. Event: none."""
    _require_desk(by, day.office)
    fields = _day_fields(day.office, values)
    with transaction.atomic():
        locked = ReceptionDay.objects.select_for_update().get(pk=day.pk)
        if locked.state != DayState.PLANNED:
            raise ConcurrentChange(
                f"该接待日已{locked.get_state_display()}，不能修改", field="state"
            )
        booked = booked_heads(locked)
        if fields["capacity"] < booked:
            raise DomainError(f"已预约 {booked} 人，预约名额不能少于 {booked}", field="capacity")
        ReceptionDay.objects.filter(pk=day.pk).update(**fields)
    day.refresh_from_db()
    return day


def day_cancel(*, day: ReceptionDay, by: Any, note: str = "") -> ReceptionDay:
    """Cancel a planned day.

    Guard: desk post; the day is planned. Effect: planned → cancelled, its standing bookings
    cancelled. Event: none."""
    _require_desk(by, day.office)
    note = _line(note, "note", "取消原因", 300)
    with transaction.atomic():
        n = ReceptionDay.objects.filter(pk=day.pk, state=DayState.PLANNED).update(
            state=DayState.CANCELLED, note=note or day.note
        )
        if not n:
            day.refresh_from_db()
            raise ConcurrentChange(f"该接待日已{day.get_state_display()}，不能取消", field="state")
        day.bookings.filter(state__in=[BookingState.BOOKED, BookingState.ARRIVED]).update(
            state=BookingState.CANCELLED
        )
    day.refresh_from_db()
    return day


def bookings_visible_to(user: Any) -> QuerySet[Booking]:
    return Booking.objects.filter(day__in=days_visible_to(user))


def booking_create(
    *,
    day: ReceptionDay,
    by: Any,
    topic: str,
    headcount: Any = 1,
    person: PetitionerInput | None = None,
    case: Case | None = None,
    at: dt.datetime | None = None,
) -> Booking:
    """预约 a person on a reception day.

    Guard: desk post in the day's office; the day is planned; either the person's identity
    (validated and found/created by ``people.services``: ID and phone stay encrypted) or a
    case the clerk can see (its first petitioner); capacity (persons) not exceeded — refused
    with "本场接待已约满（N人）"; the person not booked on the day already. Effect: a booked
    ``Booking`` at the end of the queue (the day row is locked while counting).
    Event: none (a linked case gets its ``leader_reception`` event when received)."""
    _require_desk(by, day.office)
    topic = _line(topic, "topic", "反映事项", 300, required=True)
    count = _headcount(headcount)
    if case is not None and not cases_visible_to(by).filter(pk=case.pk).exists():
        raise DomainError("关联事项不存在或不在您的权限范围内", field="case")
    if case is not None:
        _leader_may_see(day, case)
    typed = person is not None and bool(person.name or person.id_number or person.phone)
    if case is not None and case.is_confidential and not typed:
        # the accuser's identity is shown only through the audited reveal: not taken over
        raise DomainError("检举控告件的信访人身份保密，请填写预约人的姓名等信息", field="name")
    with transaction.atomic():
        if typed:
            assert person is not None
            petitioner = petitioner_resolve(clean_petitioner(person))
        elif case is not None:
            first = case.parties.order_by("order", "id").select_related("petitioner").first()
            if first is None:
                raise DomainError("该事项没有信访人，请填写信访人信息", field="name")
            petitioner = first.petitioner
        else:
            raise DomainError("请填写信访人姓名，或选择关联事项", field="name")
        locked = ReceptionDay.objects.select_for_update().get(pk=day.pk)
        if locked.state != DayState.PLANNED:
            raise DomainError(f"该接待日已{locked.get_state_display()}，不能预约", field="day")
        existing = locked.bookings.filter(
            petitioner=petitioner, state__in=ACTIVE_BOOKING_STATES
        ).first()
        if existing is not None:
            raise DomainError(f"该信访人已预约本场接待（第 {existing.order} 号）", field="name")
        if booked_heads(locked) + count > locked.capacity:
            raise DomainError(f"本场接待已约满（{locked.capacity}人）", field="headcount")
        last = locked.bookings.order_by("-order").values_list("order", flat=True).first() or 0
        try:
            with transaction.atomic():
                return Booking.objects.create(
                    day=locked,
                    petitioner=petitioner,
                    case=case,
                    topic=topic,
                    headcount=count,
                    order=last + 1,
                    booked_by=by,
                    booked_at=_now(at),
                )
        except IntegrityError:
            raise DomainError("该信访人已预约本场接待", field="name") from None


def _booking_move(
    booking: Booking, by: Any, frm: list[str], to: str, what: str, **extra: Any
) -> Booking:
    _require_desk(by, booking.day.office)
    with transaction.atomic():
        n = Booking.objects.filter(pk=booking.pk, state__in=frm).update(state=to, **extra)
        if not n:
            booking.refresh_from_db()
            raise ConcurrentChange(
                f"该预约当前为「{booking.get_state_display()}」，不能{what}", field="state"
            )
    booking.refresh_from_db()
    return booking


def booking_arrive(*, booking: Booking, by: Any, at: dt.datetime | None = None) -> Booking:
    """签到. Guard: desk post; booked. Effect: booked → arrived. Event: none."""
    return _booking_move(
        booking, by, [BookingState.BOOKED], BookingState.ARRIVED, "签到", arrived_at=_now(at)
    )


def booking_no_show(*, booking: Booking, by: Any) -> Booking:
    """未到. Guard: desk post; booked. Effect: booked → no_show. Event: none."""
    return _booking_move(booking, by, [BookingState.BOOKED], BookingState.NO_SHOW, "标记未到")


def booking_cancel(*, booking: Booking, by: Any) -> Booking:
    """取消预约. Guard: desk post; booked or arrived. Effect: → cancelled. Event: none."""
    return _booking_move(
        booking, by, [BookingState.BOOKED, BookingState.ARRIVED], BookingState.CANCELLED, "取消"
    )


def _leader_may_see(day: ReceptionDay, case: Case) -> None:
    """The day's leader receives the matter: it must exist for them (not another unit's case,
    not a 检举控告件 naming them or their unit — ``cases_visible_to``)."""
    if not cases_visible_to(day.leader).filter(pk=case.pk).exists():
        raise DomainError(
            "该事项不在本场接待领导的查看范围内（或应当回避），不能安排到本场接待", field="case"
        )


def may_record(user: Any, booking: Booking) -> bool:
    return booking.day.leader_id == getattr(user, "pk", None) or may_register(
        user, booking.day.office
    )


def booking_link_case(*, booking: Booking, case: Case, by: Any) -> Booking:
    """关联事项: the matter this booking is about.

    Guard: desk post in the day's office (or the day's leader); the case is visible to them;
    the booking is booked/arrived. Effect: booking.case. Event: none (the record writes one)."""
    if not may_record(by, booking):
        raise PermissionDenied("您不能为该预约关联事项")
    if not cases_visible_to(by).filter(pk=case.pk).exists():
        raise DomainError("关联事项不存在或不在您的权限范围内", field="case")
    _leader_may_see(booking.day, case)
    with transaction.atomic():
        n = Booking.objects.filter(
            pk=booking.pk, state__in=[BookingState.BOOKED, BookingState.ARRIVED]
        ).update(case=case)
        if not n:
            booking.refresh_from_db()
            raise ConcurrentChange(
                f"该预约当前为「{booking.get_state_display()}」，不能关联事项", field="case"
            )
    booking.refresh_from_db()
    return booking


def booking_link_registered(*, booking_id: int, case: Case) -> bool:
    """The case registered from a booking (``desk_case_registered`` with ``booking_id``).

    Guard: the booking's day belongs to the case's registering office, the booking is
    booked/arrived and has no case yet (otherwise nothing). Effect: booking.case. Event: none."""
    if not isinstance(booking_id, int) or not 0 < booking_id < 2**62:
        return False
    booking = (
        Booking.objects.filter(pk=booking_id, day__office_id=case.office_unit_id)
        .select_related("day__leader")
        .first()
    )
    if booking is None or not cases_visible_to(booking.day.leader).filter(pk=case.pk).exists():
        return False  # another office's booking, or a case the day's leader must not see
    return bool(
        Booking.objects.filter(
            pk=booking_id,
            day__office_id=case.office_unit_id,
            case__isnull=True,
            state__in=[BookingState.BOOKED, BookingState.ARRIVED],
        ).update(case=case)
    )


def booking_record(
    *,
    booking: Booking,
    by: Any,
    record: str,
    attendees: str = "",
    at: dt.datetime | None = None,
) -> CaseEvent:
    """领导接待记录: the leader's 意见/批示 on the matter received.

    Guard: desk post in the day's office or the day's leader; the booking is arrived (签到
    first) and linked to a case the recorder can see; the day is not cancelled. Effect:
    arrived → received with the record; the day planned → held. Event: ``leader_reception``
    on the case (text = the record; data: day, date, leader, attendees, booking) — internal."""
    if not may_record(by, booking):
        raise PermissionDenied("只有接待领导或本单位接待员、办案员可以记录领导接待")
    text = clean_text(record or "").strip()
    if len(text) < 2:
        raise DomainError("请填写领导意见/批示（至少 2 个字）", field="record")
    if len(text) > RECORD_MAX:
        raise DomainError(
            f"领导意见不能超过 {RECORD_MAX} 字（现为 {len(text)} 字）", field="record"
        )
    attendees = _line(attendees, "attendees", "参加人员", 300)
    if booking.case_id is None:
        raise DomainError("请先登记或关联事项，再记录领导接待", field="case")
    case = cases_visible_to(by).filter(pk=booking.case_id).first()
    if case is None:
        raise DomainError("关联事项不存在或不在您的权限范围内", field="case")
    day = booking.day
    if day.state == DayState.CANCELLED:
        raise DomainError("该接待日已取消", field="state")
    now = _now(at)
    with transaction.atomic():
        n = Booking.objects.filter(pk=booking.pk, state=BookingState.ARRIVED).update(
            state=BookingState.RECEIVED,
            record=text,
            attendees=attendees,
            received_at=now,
            recorded_by=by,
        )
        if not n:
            booking.refresh_from_db()
            if booking.state == BookingState.BOOKED:
                raise DomainError("请先为来访人签到", field="state")
            raise ConcurrentChange(
                f"该预约当前为「{booking.get_state_display()}」，不能记录接待", field="state"
            )
        ReceptionDay.objects.filter(pk=day.pk, state=DayState.PLANNED).update(state=DayState.HELD)
        leader = day.leader
        event = CaseEvent.objects.create(
            case=case,
            kind="leader_reception",
            actor=by,
            actor_unit=day.office,
            at=now,
            from_status=case.status,
            to_status=case.status,
            text=text,
            data={
                "day_id": day.pk,
                "date": day.date.isoformat(),
                "leader_id": leader.pk,
                "leader": leader.get_full_name() or leader.username,
                "attendees": attendees,
                "booking_id": booking.pk,
                "place": day.place,
            },
        )
    booking.refresh_from_db()
    return event


# --- 包案 --------------------------------------------------------------------------------------


def active_owner(case: Case) -> CaseOwnership | None:
    return (
        CaseOwnership.objects.filter(case=case, ended_at__isnull=True)
        .select_related("leader", "assigned_by")
        .first()
    )


def may_assign_owner(user: Any, case: Case) -> bool:
    """The office's 办案员, or a 领导 over the case (for themselves)."""
    return holds_role_over(user, case.office_unit, {R.CASE_OFFICER}) or _leads(user, case)


def _leads(user: Any, case: Case) -> bool:
    units = [u for u in (case.office_unit, case.handling_unit) if u is not None]
    return any(is_leader_over(user, u) for u in units)


def owner_choices(case: Case) -> list[Any]:
    """Leaders over the case's registering office (and its handling unit)."""
    users = {u.pk: u for u in leaders_over_office(case.office_unit)}
    if case.handling_unit is not None:
        users.update({u.pk: u for u in leaders_over_office(case.handling_unit)})
    # not a leader who must not see the case (检举控告: accused, or in an accused unit)
    return sorted(
        (u for u in users.values() if cases_visible_to(u).filter(pk=case.pk).exists()),
        key=lambda u: u.username,
    )


def case_assign_owner(
    *, case: Case, leader: Any, by: Any, note: str = "", at: dt.datetime | None = None
) -> CaseOwnership:
    """包案: a leader takes ownership of a case.

    Guard: ``by`` may see the case and is the office's 办案员 (any leader over the case) or a
    领导 over it taking it themselves; no active ownership yet (one per case, by a partial
    unique index too). Effect: an active ``CaseOwnership``; the leader is notified.
    Event: ``ownership`` (internal)."""
    if not cases_visible_to(by).filter(pk=case.pk).exists():
        raise PermissionDenied("该事项不在您的权限范围内")
    is_officer = holds_role_over(by, case.office_unit, {R.CASE_OFFICER})
    if not is_officer:
        if not _leads(by, case):
            raise PermissionDenied("只有登记单位的办案员或辖区领导可以安排包案")
        if leader.pk != by.pk:
            raise PermissionDenied("领导只能自己包案；指定其他领导请由办案员办理")
    if leader is None or not _leads(leader, case):
        raise DomainError("包案领导须是该事项所在辖区的领导", field="leader")
    if not cases_visible_to(leader).filter(pk=case.pk).exists():
        # 检举控告: a leader named as accused (or in an accused unit) never owns — or sees — it
        raise DomainError("该领导应当回避，不能包案本事项", field="leader")
    note = _line(note, "note", "说明", 300)
    now = _now(at)
    name = leader.get_full_name() or leader.username
    try:
        with transaction.atomic():
            current = active_owner(case)
            if current is not None:
                who = current.leader.get_full_name() or current.leader.username
                raise DomainError(f"该事项已由{who}包案，请先结束包案", field="leader")
            own = CaseOwnership.objects.create(
                case=case, leader=leader, assigned_by=by, since=now, note=note
            )
            CaseEvent.objects.create(
                case=case,
                kind="ownership",
                actor=by,
                actor_unit=case.office_unit if is_officer else None,
                at=now,
                from_status=case.status,
                to_status=case.status,
                text=f"{name} 包案" + (f"：{note}" if note else ""),
                data={"ownership_id": own.pk, "leader_id": leader.pk, "leader": name},
            )
            if leader.pk != by.pk:
                from xinfang.notify.services import case_label, notify

                notify(
                    [leader],
                    kind="ownership",
                    title=f"包案：{case_label(case)}",
                    case=case,
                    dedupe_key=f"ownership:{own.pk}",
                    at=now,
                )
            return own
    except IntegrityError:
        raise ConcurrentChange("该事项刚由他人安排了包案领导，请刷新", field="leader") from None


def case_end_owner(
    *, case: Case, by: Any, note: str = "", at: dt.datetime | None = None
) -> CaseOwnership:
    """结束包案.

    Guard: an active ownership; ``by`` is the owning leader or the office's 办案员.
    Effect: conditional UPDATE ended_at. Event: ``ownership_end`` (internal)."""
    current = active_owner(case)
    if current is None:
        raise DomainError("该事项没有包案领导", field="leader")
    if current.leader_id != by.pk and not holds_role_over(by, case.office_unit, {R.CASE_OFFICER}):
        raise PermissionDenied("只有包案领导或登记单位的办案员可以结束包案")
    note = _line(note, "note", "说明", 300)
    now = _now(at)
    with transaction.atomic():
        n = CaseOwnership.objects.filter(pk=current.pk, ended_at__isnull=True).update(
            ended_at=now, ended_by=by
        )
        if not n:
            raise ConcurrentChange("包案已由他人结束，请刷新", field="leader")
        name = current.leader.get_full_name() or current.leader.username
        CaseEvent.objects.create(
            case=case,
            kind="ownership_end",
            actor=by,
            actor_unit=None,
            at=now,
            from_status=case.status,
            to_status=case.status,
            text=f"{name} 结束包案" + (f"：{note}" if note else ""),
            data={"ownership_id": current.pk, "leader_id": current.leader_id, "leader": name},
        )
    current.refresh_from_db()
    return current


def owned_cases(user: Any) -> QuerySet[Case]:
    """Cases the user owns (active 包案) and can see."""
    ids = CaseOwnership.objects.filter(leader_id=user.pk, ended_at__isnull=True).values("case_id")
    return cases_visible_to(user).filter(pk__in=ids)


# --- 值班领导 ---------------------------------------------------------------------------------


def roster_add(*, office: Unit, day: dt.date, leader: Any, by: Any, note: str = "") -> DutyRoster:
    """排班. Guard: desk post in the office; the leader is a 领导 over the office.
    Effect: a ``DutyRoster`` row (once per office × day × leader). Event: none."""
    _require_desk(by, office)
    if leader is None or not leaders_over_office(office).filter(pk=leader.pk).exists():
        raise DomainError(f"值班领导须是{office.name}或其上级单位的领导", field="leader")
    note = _line(note, "note", "说明", 100)
    try:
        with transaction.atomic():
            return DutyRoster.objects.create(office=office, day=day, leader=leader, note=note)
    except IntegrityError:
        raise DomainError("该领导当日已在值班表中", field="leader") from None


def roster_remove(*, row: DutyRoster, by: Any) -> None:
    """撤销排班. Guard: desk post in the office. Effect: the row deleted. Event: none."""
    _require_desk(by, row.office)
    DutyRoster.objects.filter(pk=row.pk).delete()


def petitioner_of(pk: int) -> Petitioner | None:
    return Petitioner.objects.filter(pk=pk).first()


def booked_person(user: Any, pk: int) -> Petitioner | None:
    """A person booked (standing: 已预约/已签到) on a leader reception day of an office where
    ``user`` holds a desk post: the office typed their identity itself, so the day page's
    "登记新事项" may carry them to the register form (``cases.desk.PERSON_SOURCES``)."""
    booked = (
        Booking.objects.filter(
            petitioner_id=pk,
            day__office__in=[o.pk for o in registering_offices(user)],
            state__in=[BookingState.BOOKED, BookingState.ARRIVED],
        )
        .select_related("petitioner")
        .first()
    )
    return booked.petitioner if booked is not None else None
