"""Deadline rows: opened, met, extended and cancelled by the lifecycle services.

Due dates come from the rule table (``DeadlineRule``, data an admin edits) and the one calendar
module (``xinfang.core.workcalendar``). The 正常/临期/超期 state of a case is read from its open
obligation deadlines, so lists and sweeps find due cases by index, not by scanning cases.

Rule cache: every deadline opened reads its rule, so the rule rows are kept per process in a
``core.refcache.ReferenceCache`` (cleared by an admin's edit; other processes catch up within
its TTL).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Min, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from xinfang.cases.models import Case, Deadline, DeadlineKind, DeadlineRule, OpenDeadline
from xinfang.core import workcalendar
from xinfang.core.refcache import ReferenceCache

# The national time limits (信访工作条例), seeded into DeadlineRule and used if a row is missing.
NATIONAL_RULES: dict[str, tuple[int, str]] = {
    DeadlineKind.ROUTE: (15, "收到信访事项之日起15日内登记并转送、交办或告知"),
    DeadlineKind.ACCEPT: (15, "收到转送、交办之日起15日内决定是否受理并书面告知"),
    DeadlineKind.HANDLE: (60, "自受理之日起60日内办结"),
    DeadlineKind.EXTENSION: (30, "情况复杂的可适当延长，延长期限不得超过30日"),
    DeadlineKind.REVIEW_REQUEST: (30, "收到书面答复之日起30日内可请求复查"),
    DeadlineKind.REVIEW_DECIDE: (30, "收到复查请求之日起30日内提出复查意见"),
    DeadlineKind.REREVIEW_REQUEST: (30, "收到复查意见之日起30日内可请求复核"),
    DeadlineKind.REREVIEW_DECIDE: (30, "收到复核请求之日起30日内提出复核意见"),
}


@dataclass(frozen=True)
class RuleSpec:
    days: int
    working_days: bool
    roll_to_workday: bool
    warn_days: int


def _load_rules() -> dict[str, RuleSpec]:
    """Every kind: its row, or the national limit when an administrator removed the row."""
    specs = {kind: RuleSpec(days, False, True, 3) for kind, (days, _) in NATIONAL_RULES.items()}
    for row in DeadlineRule.objects.all():
        specs[row.kind] = RuleSpec(row.days, row.working_days, row.roll_to_workday, row.warn_days)
    return specs


# Registration reads the rules several times per case; an admin's edit clears the cache.
_rules: ReferenceCache[dict[str, RuleSpec]] = ReferenceCache(
    _load_rules, name="deadline_rules", watch=[DeadlineRule]
)
clear_rule_cache = _rules.clear


def rule_for(kind: str) -> RuleSpec:
    return _rules.get()[kind]


def due_date(kind: str, start: dt.date, *, extra_days: int = 0) -> dt.date:
    rule = rule_for(kind)
    return workcalendar.add_days(
        start,
        rule.days + extra_days,
        working_days=rule.working_days,
        roll_to_workday=rule.roll_to_workday,
    )


def local_date(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment).date()


def deadline_open(case: Case, kind: str, start: dt.date) -> Deadline:
    return Deadline.objects.create(
        case=case, kind=kind, started_on=start, due_on=due_date(kind, start)
    )


def deadlines_meet(case: Case, kinds: set[str], at: dt.datetime) -> int:
    return Deadline.objects.filter(
        case=case, kind__in=kinds, met_at__isnull=True, cancelled_at__isnull=True
    ).update(met_at=at)


def deadlines_cancel(case: Case, kinds: set[str] | frozenset[str], at: dt.datetime) -> int:
    return Deadline.objects.filter(
        case=case, kind__in=kinds, met_at__isnull=True, cancelled_at__isnull=True
    ).update(cancelled_at=at)


def open_window(case: Case, kind: str) -> Deadline | None:
    """The petitioner's open request window of ``kind`` (复查/复核 申请期限), if any."""
    return (
        Deadline.objects.filter(
            case=case, kind=kind, met_at__isnull=True, cancelled_at__isnull=True
        )
        .order_by("-id")
        .first()
    )


# --- 正常 / 临期 / 超期 ---------------------------------------------------------------------

NORMAL, DUE_SOON, OVERDUE, NONE = "normal", "due_soon", "overdue", "none"
STATE_LABELS = {NORMAL: "正常", DUE_SOON: "临期", OVERDUE: "超期", NONE: "—"}
WARN_DAYS = 3


def _open_obligation_rows() -> QuerySet[OpenDeadline]:
    """The open obligation deadlines (``OpenDeadline``: kept by triggers, with the case's
    units — ``cases.openstate``)."""
    return OpenDeadline.objects.all()


def overdue_rows(today: dt.date) -> QuerySet[OpenDeadline]:
    """The open obligation deadlines already past their due date."""
    return _open_obligation_rows().filter(due_on__lt=today)


def overdue_in(today: dt.date, units: Sequence[int] | None = None) -> QuerySet[OpenDeadline]:
    """``overdue_rows``, of the cases registered at or held by one of ``units`` (None: all) —
    the units stored on the rows, no join to the cases."""
    rows = overdue_rows(today)
    if units is not None:
        rows = rows.filter(Q(office_unit_id__in=units) | Q(holder_id__in=units))
    return rows


def most_overdue(
    rows: QuerySet[OpenDeadline], visible: QuerySet[Case] | None, limit: int
) -> list[tuple[Case, dt.date]]:
    """The ``limit`` cases longest overdue among ``rows`` (``overdue_in``), each with its
    earliest overdue due date, longest first; with ``visible``, only cases in it. The rows are
    walked by due date in growing chunks until ``limit`` distinct cases are found — not every
    overdue case's earliest date computed and sorted (statistics pages, bulletins)."""
    order: dict[int, dt.date] = {}
    offset, chunk = 0, max(limit * 4, 50)
    while len(order) < limit:
        batch = list(
            rows.order_by("due_on", "case_id").values_list("case_id", "due_on")[
                offset : offset + chunk
            ]
        )
        ids = {case_id for case_id, _ in batch}
        if visible is not None and ids:
            ids = set(visible.filter(pk__in=ids).values_list("pk", flat=True))
        for case_id, due in batch:
            if case_id in ids and len(order) < limit:
                order.setdefault(case_id, due)
        if len(batch) < chunk:
            break
        offset += chunk
        chunk = min(chunk * 2, 5000)
    cases = Case.objects.select_related("office_unit", "handling_unit").in_bulk(list(order))
    return [(cases[pk], due) for pk, due in order.items() if pk in cases]


def with_next_due(qs: QuerySet[Case]) -> QuerySet[Case]:
    """Annotate ``next_due``: the earliest open obligation due date of each case (for a single
    case or a small set; lists use ``next_due_by_case`` on the page's ids)."""
    sub = (
        _open_obligation_rows()
        .filter(case=OuterRef("pk"))
        .values("case")
        .annotate(m=Min("due_on"))
        .values("m")[:1]
    )
    return qs.annotate(next_due=Subquery(sub))


def next_due_by_case(case_ids: list[int]) -> dict[int, dt.date]:
    rows = (
        _open_obligation_rows()
        .filter(case_id__in=case_ids)
        .values("case_id")
        .annotate(m=Min("due_on"))
        .values_list("case_id", "m")
    )
    return dict(rows)


def filter_deadline_state(qs: QuerySet[Case], state: str, today: dt.date) -> QuerySet[Case]:
    """Cases whose earliest open obligation deadline is overdue / due soon / normal, or that
    have none. Written as id subqueries over the partial index (kind, due_on) of open rows."""
    soon = today + dt.timedelta(days=WARN_DAYS)
    open_ = _open_obligation_rows()
    overdue = open_.filter(due_on__lt=today).values("case_id")
    if state == OVERDUE:
        return qs.filter(pk__in=overdue)
    if state == DUE_SOON:
        return qs.filter(
            pk__in=open_.filter(due_on__gte=today, due_on__lte=soon).values("case_id")
        ).exclude(pk__in=overdue)
    if state == NORMAL:
        return qs.filter(pk__in=open_.values("case_id")).exclude(
            pk__in=open_.filter(due_on__lte=soon).values("case_id")
        )
    if state == NONE:
        return qs.exclude(pk__in=open_.values("case_id"))
    return qs


def state_of(next_due: dt.date | None, today: dt.date) -> str:
    if next_due is None:
        return NONE
    if next_due < today:
        return OVERDUE
    if next_due <= today + dt.timedelta(days=WARN_DAYS):
        return DUE_SOON
    return NORMAL


def unmet_filter() -> Q:
    return Q(met_at__isnull=True, cancelled_at__isnull=True)
