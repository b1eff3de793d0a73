"""接待台与领导接待: today's desk queue (取号/叫号), leader reception days with bookings and
records, 包案 (a leader owns a case) and the on-duty leader roster.

Nothing is deleted (``PROTECT``); state changes go through ``services.py`` with conditional
UPDATEs, and whatever touches a case writes a ``CaseEvent``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from xinfang.cases.models import Case
from xinfang.org.models import Unit
from xinfang.people.models import Petitioner

USER = settings.AUTH_USER_MODEL


class DeskCounter(models.Model):
    """The last ticket number issued by an office on a day (gap-free, one row per day)."""

    office = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "取号计数"
        verbose_name_plural = "取号计数"
        constraints = [
            models.UniqueConstraint(fields=["office", "day"], name="desk_counter_office_day")
        ]

    def __str__(self) -> str:
        return f"{self.office_id} {self.day} {self.last}"


class VisitState(models.TextChoices):
    WAITING = "waiting", "等候中"
    IN_RECEPTION = "in_reception", "接待中"
    DONE = "done", "已完成"
    LEFT = "left", "离开未接待"


class VisitOutcome(models.TextChoices):
    REGISTERED = "registered", "已登记"
    ANSWERED = "answered", "当场答复"
    REFERRED = "referred", "引导至他处"
    LEFT = "left", "离开"


class DeskVisit(models.Model):
    """A walk-in at the desk of a petition office: ticket, waiting, reception, outcome."""

    office = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    day = models.DateField("日期")
    ticket = models.PositiveIntegerField("号码")
    visitor_name = models.CharField("来访人", max_length=50, blank=True)
    headcount = models.PositiveIntegerField("人数", default=1)
    note = models.CharField("备注", max_length=300, blank=True)
    state = models.CharField(
        "状态", max_length=14, choices=VisitState.choices, default=VisitState.WAITING
    )
    outcome = models.CharField(
        "结果", max_length=12, choices=VisitOutcome.choices, blank=True, default=""
    )
    outcome_note = models.CharField("结果说明", max_length=300, blank=True)
    arrived_at = models.DateTimeField("到达时间")
    called_at = models.DateTimeField("开始接待", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    checked_in_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    clerk = models.ForeignKey(
        USER,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="接待人",
    )
    petitioner = models.ForeignKey(
        Petitioner, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.PROTECT, related_name="desk_visits"
    )

    class Meta:
        verbose_name = "来访取号"
        verbose_name_plural = "来访取号"
        ordering = ["-day", "ticket"]
        constraints = [
            models.UniqueConstraint(
                fields=["office", "day", "ticket"], name="desk_visit_office_day_ticket"
            )
        ]
        indexes = [models.Index(fields=["office", "day", "state"], name="desk_visit_queue")]

    def __str__(self) -> str:
        return f"{self.day} {self.ticket}号"

    @property
    def ticket_label(self) -> str:
        return f"{self.ticket:03d}"


class DayState(models.TextChoices):
    PLANNED = "planned", "计划"
    HELD = "held", "已举行"
    CANCELLED = "cancelled", "已取消"


class ReceptionDay(models.Model):
    """领导接待日: a leader receives petitioners at an office on a day."""

    office = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    leader = models.ForeignKey(
        USER, on_delete=models.PROTECT, related_name="+", verbose_name="接待领导"
    )
    date = models.DateField("日期")
    start_time = models.TimeField("开始时间")
    end_time = models.TimeField("结束时间")
    place = models.CharField("地点", max_length=100)
    topics = models.CharField("接待主题", max_length=300, blank=True)
    capacity = models.PositiveIntegerField("预约名额", default=10)
    state = models.CharField(
        "状态", max_length=10, choices=DayState.choices, default=DayState.PLANNED
    )
    note = models.CharField("说明", max_length=300, blank=True)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = "领导接待日"
        verbose_name_plural = "领导接待日"
        ordering = ["-date", "-start_time", "-id"]
        indexes = [models.Index(fields=["office", "date"], name="reception_day_office_date")]

    def __str__(self) -> str:
        return f"{self.date} 领导接待日"


class BookingState(models.TextChoices):
    BOOKED = "booked", "已预约"
    ARRIVED = "arrived", "已签到"
    RECEIVED = "received", "已接待"
    NO_SHOW = "no_show", "未到"
    CANCELLED = "cancelled", "已取消"


ACTIVE_BOOKING_STATES = (BookingState.BOOKED, BookingState.ARRIVED, BookingState.RECEIVED)


class Booking(models.Model):
    """预约: one person (or group, by headcount) booked on a reception day, in queue order."""

    day = models.ForeignKey(ReceptionDay, on_delete=models.PROTECT, related_name="bookings")
    petitioner = models.ForeignKey(Petitioner, on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.PROTECT, related_name="leader_bookings"
    )
    topic = models.CharField("反映事项", max_length=300)
    headcount = models.PositiveIntegerField("人数", default=1)
    order = models.PositiveIntegerField("顺序")
    state = models.CharField(
        "状态", max_length=10, choices=BookingState.choices, default=BookingState.BOOKED
    )
    booked_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    booked_at = models.DateTimeField()
    arrived_at = models.DateTimeField(null=True, blank=True)
    # 领导接待记录
    record = models.TextField("领导意见/批示", blank=True)
    attendees = models.CharField("参加人员", max_length=300, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "接待预约"
        verbose_name_plural = "接待预约"
        ordering = ["day", "order"]
        constraints = [
            # no duplicate booking of one person on one day (while it stands)
            models.UniqueConstraint(
                fields=["day", "petitioner"],
                condition=models.Q(state__in=["booked", "arrived", "received"]),
                name="booking_one_per_person_day",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day_id} #{self.order}"


class CaseOwnership(models.Model):
    """包案: a leader owns a case until the ownership is ended; one active per case."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="ownerships")
    leader = models.ForeignKey(
        USER, on_delete=models.PROTECT, related_name="+", verbose_name="包案领导"
    )
    assigned_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    since = models.DateTimeField("包案时间")
    ended_at = models.DateTimeField("结束时间", null=True, blank=True)
    ended_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField("说明", max_length=300, blank=True)

    class Meta:
        verbose_name = "领导包案"
        verbose_name_plural = "领导包案"
        ordering = ["-since", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(ended_at__isnull=True),
                name="ownership_one_active_per_case",
            )
        ]
        indexes = [
            models.Index(
                fields=["leader", "since"],
                name="ownership_active_leader",
                condition=models.Q(ended_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"包案 {self.case_id} {self.leader_id}"


class DutyRoster(models.Model):
    """值班领导: who is on duty for an office on a day."""

    office = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    day = models.DateField("日期")
    leader = models.ForeignKey(
        USER, on_delete=models.PROTECT, related_name="+", verbose_name="值班领导"
    )
    note = models.CharField("说明", max_length=100, blank=True)

    class Meta:
        verbose_name = "值班领导"
        verbose_name_plural = "值班领导"
        ordering = ["-day", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["office", "day", "leader"], name="duty_roster_office_day_leader"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} 值班"
