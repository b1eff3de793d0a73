"""Reads: the case list with search and filters, the work list counts, a case's detail.

Everything starts from ``policy.cases_visible_to(user)`` so a case outside the user's units never
appears in a list, a count, a search or an export.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from xinfang.cases import deadlines
from xinfang.cases.models import Case, CasePetitioner, Category, Status
from xinfang.cases.policy import cases_visible_to
from xinfang.core.text import clean_line
from xinfang.org import roles as R
from xinfang.org.policy import posts_of
from xinfang.people.models import Petitioner
from xinfang.people.selectors import with_id_number, with_phone


@dataclass
class CaseFilter:
    q: str = ""
    status: str = ""
    channel: str = ""
    purpose: str = ""
    unit: int | None = None  # handling unit (or any unit below it)
    category: int | None = None  # this category or any below it
    place: str = ""  # 问题属地 code prefix or name words
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    deadline: str = ""  # normal / due_soon / overdue / none
    flag: str = ""  # repeat / skip_level / collective / joint

    def __post_init__(self) -> None:
        # Query strings reach here unvalidated from the API: no control characters (PostgreSQL
        # refuses NUL in a literal), one line, trimmed.
        for name in ("q", "status", "channel", "purpose", "place", "deadline", "flag"):
            setattr(self, name, clean_line(getattr(self, name)))


ID_RE = re.compile(r"^\d{6,17}[\dXx]$")
PHONE_LIKE_RE = re.compile(r"^\+?[\d\s()（）-]{7,20}$")  # digits as people type a phone
NUMBER_RE = re.compile(r"^XF-", re.IGNORECASE)
MAX_PEOPLE_MATCHED = 500  # a common name; more than this is not a useful person search


def _petitioner_match(q: str) -> QuerySet[Petitioner] | None:
    """People matching a typed ID number, phone, or name; None when q looks like neither."""
    q = clean_line(q)
    # ID numbers and phones are encrypted: exact matches through their blind indexes.
    if ID_RE.match(q) and len(q) in (15, 18):
        return with_id_number(q)
    if PHONE_LIKE_RE.match(q):
        # Indexed by the canonical spelling (13812345678, 010-12345678), so "138 1234 5678"
        # and "01012345678" find their person.
        return with_phone(q)
    if re.fullmatch(r"[\u4e00-\u9fff·]{2,10}", q):
        return Petitioner.objects.filter(name=q)
    return None


def _search(qs: QuerySet[Case], q: str, user: Any = None) -> QuerySet[Case]:
    """Number, query code, person, or words. Person and word matches leave out 检举控告 cases
    unless ``user`` is desk/case staff of their registering office (``confidential``)."""
    from xinfang.cases.confidential import search_guard

    q = q.strip()
    if not q:
        return qs
    if NUMBER_RE.match(q):
        return qs.filter(number__istartswith=q.upper())
    if re.fullmatch(r"[2-9A-HJ-NP-Z]{10}", q.upper()) and not q.isdigit():
        by_code = qs.filter(query_code=q.upper())
        if by_code.exists():
            return by_code
    people = _petitioner_match(q)
    if people is not None:
        # Typed an ID number, a phone or a person's name: when such people exist, the clerk is
        # looking for their cases — resolve the people (indexed) and filter by their case ids,
        # without scanning every case's text.
        person_ids = list(people.values_list("pk", flat=True)[:MAX_PEOPLE_MATCHED])
        if person_ids:
            case_ids = CasePetitioner.objects.filter(petitioner_id__in=person_ids).values("case_id")
            return qs.filter(search_guard(user), pk__in=case_ids)
    condition = Q()
    for word in q.split():
        # Chinese has no letter case: a plain LIKE spares PostgreSQL an UPPER() of every text.
        lookup = "icontains" if re.search(r"[A-Za-z]", word) else "contains"
        condition &= Q(**{f"summary__{lookup}": word}) | Q(**{f"content__{lookup}": word})
    condition &= search_guard(user)
    if q.isdigit() and 4 <= len(q) <= 6:
        # Last digits of a case number, as a clerk reads them off a receipt.
        condition |= Q(number__endswith=q)
    return qs.filter(condition)


def category_subtree_ids(category_id: int) -> list[int]:
    ids = [category_id]
    frontier = [category_id]
    while frontier:
        frontier = list(
            Category.objects.filter(parent_id__in=frontier).values_list("id", flat=True)
        )
        ids.extend(frontier)
    return ids


MAX_ID = 2**62  # ids from a query string beyond any row: match nothing, never overflow
EARLIEST_DATE, LATEST_DATE = dt.date(1900, 1, 1), dt.date(2100, 12, 30)


def case_list(user: Any, f: CaseFilter, *, today: dt.date | None = None) -> QuerySet[Case]:
    today = today or timezone.localdate()
    qs = cases_visible_to(user)
    for wanted in (f.unit, f.category):
        if wanted is not None and not 0 < wanted < MAX_ID:
            return qs.none()
    qs = _search(qs, f.q, user)
    if f.status:
        qs = qs.filter(status=f.status)
    if f.channel:
        qs = qs.filter(channel=f.channel)
    if f.purpose:
        qs = qs.filter(purpose=f.purpose)
    if f.unit:
        from xinfang.org.models import Unit

        unit = Unit.objects.filter(pk=f.unit).first()
        below = Unit.objects.filter(path__startswith=unit.path) if unit else Unit.objects.none()
        qs = qs.filter(handling_unit_id__in=list(below.values_list("pk", flat=True)))
    if f.category:
        qs = qs.filter(category_id__in=category_subtree_ids(f.category))
    if f.place:
        place = f.place.strip()
        qs = (
            qs.filter(place_code__startswith=place)
            if place.isdigit()
            else qs.filter(place_name__icontains=place)
        )
    tz = timezone.get_current_timezone()
    if f.date_from:
        start = min(max(f.date_from, EARLIEST_DATE), LATEST_DATE)
        qs = qs.filter(received_at__gte=dt.datetime.combine(start, dt.time.min, tz))
    if f.date_to:
        end = min(max(f.date_to, EARLIEST_DATE), LATEST_DATE) + dt.timedelta(days=1)
        qs = qs.filter(received_at__lt=dt.datetime.combine(end, dt.time.min, tz))
    if f.deadline:
        qs = deadlines.filter_deadline_state(qs, f.deadline, today)
    if f.flag in {"repeat", "skip_level", "collective", "joint"}:
        qs = qs.filter(**{f"is_{f.flag}": True})
    return qs


def case_list_page_rows(qs: QuerySet[Case]) -> QuerySet[Case]:
    """The rows of a list page, newest first, without the long text the list never shows.
    Per-row extras (next due date, first petitioner) are fetched for the page only:
    ``annotate_page``."""
    return (
        qs.select_related("category", "handling_unit", "office_unit")
        .defer("content")
        .order_by("-received_at", "-id")
    )


def annotate_page(rows: list[Case]) -> dict[int, Petitioner]:
    """Set ``next_due`` on each row (one grouped query over the page's open obligation
    deadlines) and return each case's first petitioner (one query)."""
    due = deadlines.next_due_by_case([c.pk for c in rows])
    for case in rows:
        case.next_due = due.get(case.pk)  # type: ignore[attr-defined]
    return first_petitioners(rows)


def first_petitioners(cases: list[Case]) -> dict[int, Petitioner]:
    """The first-listed person of each case (for list rows), one query."""
    links = (
        CasePetitioner.objects.filter(case__in=cases)
        .select_related("petitioner")
        .order_by("case_id", "order", "id")
    )
    first: dict[int, Petitioner] = {}
    for link in links:
        first.setdefault(link.case_id, link.petitioner)
    return first


# --- the work list ------------------------------------------------------------------------


@dataclass
class WorkItem:
    key: str
    label: str
    filter: CaseFilter
    count: int = 0


def work_list(user: Any) -> list[WorkItem]:
    """Role-aware buckets: what is waiting for this user, with counts."""
    roles = {p.role for p in posts_of(user)}
    items: list[WorkItem] = []
    if roles & R.OFFICE_STAFF:
        items.append(WorkItem("to_route", "待分流（新登记）", CaseFilter(status=Status.REGISTERED)))
        items.append(WorkItem("returned", "被退回待重新分流", CaseFilter(status=Status.RETURNED)))
        items.append(WorkItem("to_evaluate", "待评价", CaseFilter(status=Status.REPLIED)))
        items.append(
            WorkItem("reviews", "复查申请待办", CaseFilter(status=Status.REVIEW_REQUESTED))
        )
    if roles & R.UNIT_STAFF:
        items.append(WorkItem("to_sign", "待签收（交办）", CaseFilter(status=Status.ASSIGNED)))
        items.append(WorkItem("to_sign_fwd", "待签收（转送）", CaseFilter(status=Status.FORWARDED)))
        items.append(WorkItem("to_accept", "已签收待受理", CaseFilter(status=Status.SIGNED)))
        items.append(WorkItem("to_reply", "办理中待答复", CaseFilter(status=Status.ACCEPTED)))
    if roles & R.CASE_READERS:
        items.append(WorkItem("due_soon", "临期", CaseFilter(deadline=deadlines.DUE_SOON)))
        items.append(WorkItem("overdue", "超期", CaseFilter(deadline=deadlines.OVERDUE)))
    for item in items:
        item.count = case_list(user, item.filter).count()
    return items
