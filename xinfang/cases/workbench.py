"""The unit workbench (/work/): what the user's unit(s) must act on, most urgent first.

Unit staff (承办人/单位负责人): open cases their units handle, in four disjoint groups —
超期 (most overdue first), 临期 (earliest due first), 新到未签收 (oldest first), 办理中 (oldest
first). Each group is a filter over the handling unit × status index and
id subqueries over the partial index of open deadlines (four COUNTs for the tabs); the "全部"
tab lists the groups one after another, reading only the groups a page reaches.

Office 办案员: cases returned to the office (with the reason), pending extension requests,
cases waiting to be routed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import F, QuerySet
from django.utils import timezone

from xinfang.cases import deadlines
from xinfang.cases.models import Case, CaseEvent, ExtensionRequest, Status
from xinfang.cases.policy import cases_visible_to
from xinfang.cases.selectors import _search, category_subtree_ids
from xinfang.org import roles as R
from xinfang.org.policy import posts_of

NEW = {Status.ASSIGNED, Status.FORWARDED}
WORKING = {Status.SIGNED, Status.ACCEPTED}
HANDLING = NEW | WORKING

GROUPS: list[tuple[str, str]] = [
    ("overdue", "超期"),
    ("due_soon", "临期"),
    ("new", "新到未签收"),
    ("doing", "办理中"),
]
GROUP_LABELS = dict(GROUPS)
PAGE = 50


@dataclass
class WorkFilter:
    q: str = ""
    status: str = ""
    deadline: str = ""
    category: int | None = None


@dataclass
class Group:
    key: str
    label: str
    count: int = 0


@dataclass
class WorkPage:
    groups: list[Group]
    total: int
    rows: list[Case]
    page: int
    pages: int
    tab: str
    unit_ids: list[int] = field(default_factory=list)


def handling_unit_ids(user: Any) -> list[int]:
    return sorted({p.unit_id for p in posts_of(user) if p.role in R.UNIT_STAFF})


def office_ids(user: Any) -> list[int]:
    return sorted({p.unit_id for p in posts_of(user) if p.role == R.CASE_OFFICER})


def base_queryset(user: Any, unit_ids: list[int], f: WorkFilter) -> QuerySet[Case]:
    qs = cases_visible_to(user).filter(handling_unit_id__in=unit_ids, status__in=HANDLING)
    if f.q:
        qs = _search(qs, f.q, user)
    if f.status in HANDLING:
        qs = qs.filter(status=f.status)
    if f.category:
        qs = qs.filter(category_id__in=category_subtree_ids(f.category))
    if f.deadline:
        qs = deadlines.filter_deadline_state(qs, f.deadline, timezone.localdate())
    return qs


def group_queryset(qs: QuerySet[Case], key: str, today: dt.date) -> QuerySet[Case]:
    """One group, in its order. The groups are disjoint and cover ``qs``; each is an id
    subquery over the partial index of open deadlines (``deadlines.filter_deadline_state``)."""
    by_due = (F("next_due").asc(nulls_last=True), "id")
    if key in ("overdue", "due_soon"):
        state = deadlines.OVERDUE if key == "overdue" else deadlines.DUE_SOON
        return deadlines.with_next_due(deadlines.filter_deadline_state(qs, state, today)).order_by(
            *by_due
        )
    urgent = _urgent_ids(today)
    if key == "new":
        return qs.filter(status__in=NEW).exclude(pk__in=urgent).order_by("updated_at", "id")
    # 办理中: nothing due within the warning window; oldest first. (Ordering the largest group
    # by due date would compute one per case of the unit; the page's rows get theirs.)
    return qs.filter(status__in=WORKING).exclude(pk__in=urgent).order_by("received_at", "id")


def _urgent_ids(today: dt.date) -> QuerySet[Any]:
    soon = today + dt.timedelta(days=deadlines.WARN_DAYS)
    return deadlines._open_obligation_rows().filter(due_on__lte=soon).values("case_id")


def _rows(qs: QuerySet[Case]) -> QuerySet[Case]:
    return qs.select_related("category", "handling_unit").defer("content")


def work_page(user: Any, f: WorkFilter, *, tab: str = "", page: int = 1) -> WorkPage:
    today = timezone.localdate()
    unit_ids = handling_unit_ids(user)
    qs = base_queryset(user, unit_ids, f) if unit_ids else Case.objects.none()
    groups = [Group(k, label) for k, label in GROUPS]
    for g in groups:
        g.count = group_queryset(qs, g.key, today).order_by().count() if unit_ids else 0
    total = sum(g.count for g in groups)
    tab = tab if tab in GROUP_LABELS else ""
    size = next(g.count for g in groups if g.key == tab) if tab else total
    pages = max(1, -(-size // PAGE))
    page = min(max(page, 1), pages)
    start, stop = (page - 1) * PAGE, page * PAGE
    rows: list[Case] = []
    offset = 0
    for g in groups if unit_ids else []:
        if tab and g.key != tab:
            continue
        # The "全部" tab: the groups one after another; only the groups this page reaches
        # are read, each from its own offset.
        lo, hi = max(start - offset, 0), min(stop - offset, g.count)
        if lo < hi:
            part = list(_rows(group_queryset(qs, g.key, today))[lo:hi])
            for c in part:
                c.wgroup = g.key  # type: ignore[attr-defined]
            rows.extend(part)
        if not tab:
            offset += g.count
    annotate_rows(rows, today)
    return WorkPage(groups, total, rows, page, pages, tab, unit_ids)


def annotate_rows(rows: list[Case], today: dt.date) -> None:
    from xinfang.cases import confidential

    missing = [c.pk for c in rows if not hasattr(c, "next_due")]
    due = deadlines.next_due_by_case(missing) if missing else {}
    for c in rows:
        if not hasattr(c, "next_due"):
            c.next_due = due.get(c.pk)  # type: ignore[attr-defined]
        c.deadline_state = deadlines.state_of(c.next_due, today)  # type: ignore[attr-defined]
        c.group_label = GROUP_LABELS.get(getattr(c, "wgroup", ""), "")  # type: ignore[attr-defined]
        c.days_over = (today - c.next_due).days if c.next_due else None  # type: ignore[attr-defined]
        c.shown = confidential.shown_summary(c) if c.is_confidential else c.summary  # type: ignore[attr-defined]


# --- the office side ---------------------------------------------------------------------------


@dataclass
class OfficeWork:
    returned: list[Case]
    returned_count: int
    extensions: list[ExtensionRequest]
    extensions_count: int
    to_route: list[Case]
    to_route_count: int


def office_work(user: Any, *, limit: int = PAGE) -> OfficeWork | None:
    offices = office_ids(user)
    if not offices:
        return None
    today = timezone.localdate()
    visible = cases_visible_to(user).filter(office_unit_id__in=offices)
    returned_qs = visible.filter(status=Status.RETURNED)
    returned = list(_rows(returned_qs).order_by("updated_at", "id")[:limit])
    reasons: dict[int, CaseEvent] = {}
    for ev in (
        CaseEvent.objects.filter(case__in=[c.pk for c in returned], kind="return")
        .select_related("actor_unit")
        .order_by("at", "id")
    ):
        reasons[ev.case_id] = ev  # the latest wins
    for c in returned:
        last = reasons.get(c.pk)
        c.return_reason = last.text if last else ""  # type: ignore[attr-defined]
        c.returned_by = last.data.get("unit", "") if last else ""  # type: ignore[attr-defined]
    ext_qs = ExtensionRequest.objects.filter(
        state=ExtensionRequest.State.PENDING, case__in=visible.values("pk")
    )
    extensions = list(
        ext_qs.select_related("case", "case__handling_unit", "requested_by").order_by(
            "requested_at", "id"
        )[:limit]
    )
    route_qs = visible.filter(status=Status.REGISTERED)
    to_route = list(_rows(route_qs).order_by("received_at", "id")[:limit])
    annotate_rows(returned + to_route, today)
    return OfficeWork(
        returned,
        returned_qs.count(),
        extensions,
        ext_qs.count(),
        to_route,
        route_qs.count(),
    )
