"""The counting rules (统计口径), in one place. docs/statistics.md states them in words; every
number the product shows is a sum of the cells this module computes for each case.

收件 (intake) — one cell per case that is not 已合并:

- 批次 = 1 per case (a letter, a call, a visit, an online message: one registered 信访事项);
  人次 = the case's 人数 (``headcount``; at least 1).
- 形式 (``kind``) by 人数: 个人 1 person, 群体 2–4, 集体 5 or more (``COLLECTIVE_MIN``). For
  来访 this is 个人访/群体访/集体访; for written channels 联名 is a separate flag of the case.
- 日期: the local date (Asia/Shanghai) the petition was **received** (``received_at``), not the
  date it was typed in. A back-dated registration therefore lands in the past period it belongs
  to; an issued bulletin for that period is reissued with the difference (``bulletins``).
- 单位: the registering office (``office_unit``). Statistics of a unit are the sum over its
  subtree. A case moved to another handling unit stays counted where it was registered.
- 问题属地: the unit whose division code is the longest prefix of ``place_code`` (ties: the
  shallowest), as the 越级 rule and the early warning read it; 0 when unknown.
- 内容分类: the second-level ancestor of the case's category (the first level when the case
  has only a first-level category); 0 when unclassified. A corrected category counts from the
  correction on, in every period — the rollups always hold the current classification; issued
  bulletins keep what they said and a reissue shows the difference.
- 渠道, 目的, 重复 (``is_repeat``), 越级 (``is_skip_level``) as registered.
- 已合并 cases (a duplicate merged into the case that carries on) are not counted: the carrying
  case is.

办理 (handling) — cells per event, each dated on the event's local date and counted at the unit
that held the case at that moment:

- ``assigned``: 交办/转送/转办 to a unit (counted at the receiving unit); ``assigned_repeat`` the
  same for a case that is a 重复信访. A 退回 (or a 回避 recall) gives the case back to the
  registering office.
- ``accept_done``: a 受理 or 不予受理 decision; ``accept_timely`` when it was made on or before the
  due date of the acceptance deadline in force (the latest 受理告知 deadline opened on or before
  that day and not cancelled before the decision); ``accepted``: 受理.
- ``reply_done``/``reply_timely``: 答复, counted on the day it was **served** (the 送达日期 the
  clerk enters, which may precede the day it was recorded), and on time when served on or before
  the due date of the 办理 deadline in force (with any approved extension).
- ``evaluated``/``satisfied``/``unsatisfied``: the petitioner's last evaluation after a reply is
  counted **on that reply's cell** (a cohort: of the cases replied in a period, how many were
  evaluated, and how); 满意 includes 基本满意.
- ``closed``: 办结 (at the handling unit; the registering office when no unit handled it);
  ``closed_once``: a 办结 with no 复查 request before it and no 不满意 as the last evaluation.
- ``backlog_in``/``backlog_out``: 积案 — a case still open ``BACKLOG_DAYS`` days after it was
  received (open from its receipt: a registration back-dated past that day is 积案 from day
  90). ``backlog_in`` on the day it becomes one (or re-opens as one after a 复查 request),
  ``backlog_out`` on the day it leaves the open states; the backlog on a day is the running sum.

Rates (``stats.kpi``) are ratios of these sums; overdue counts are read live from the open
deadlines (a deadline passing is not an event).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from xinfang.cases.models import (
    OPEN_STATUSES,
    Case,
    Category,
    Channel,
    DeadlineKind,
    Evaluation,
    Purpose,
    Status,
)
from xinfang.org.models import Unit

RULES_VERSION = 1
COLLECTIVE_MIN = 5
GROUP_MIN = 2
BACKLOG_DAYS = 90


class Kind:
    INDIVIDUAL = 1
    GROUP = 2
    COLLECTIVE = 3

    LABELS = {1: "个人", 2: "群体", 3: "集体"}
    VISIT_LABELS = {1: "个人访", 2: "群体访", 3: "集体访"}


def kind_of(headcount: int) -> int:
    if headcount >= COLLECTIVE_MIN:
        return Kind.COLLECTIVE
    if headcount >= GROUP_MIN:
        return Kind.GROUP
    return Kind.INDIVIDUAL


# Channels as the statistics group them (a report line each). 来访 includes the leaders'
# reception days and 下访 (a petitioner received in person either way).
CHANNEL_GROUPS: dict[str, tuple[str, tuple[str, ...], str]] = {
    # code: (label, channels, unit word)
    "visit": (
        "来访",
        (Channel.VISIT, Channel.COLLECTIVE_VISIT, Channel.LEADER_DAY, Channel.FIELD_VISIT),
        "批",
    ),
    "letter": ("来信", (Channel.LETTER,), "件"),
    "phone": ("来电（热线）", (Channel.PHONE,), "个"),
    "online": ("网上信访", (Channel.ONLINE,), "件"),
    "email": ("电子邮件", (Channel.EMAIL,), "件"),
    "fax": ("传真", (Channel.FAX,), "件"),
    "from_above": ("上级交办", (Channel.FROM_ABOVE,), "件"),
}
CHANNEL_GROUP_OF: dict[str, str] = {
    ch: code for code, (_, chans, _) in CHANNEL_GROUPS.items() for ch in chans
}
VISIT_CHANNELS: tuple[str, ...] = CHANNEL_GROUPS["visit"][1]
PURPOSE_LABELS = dict(Purpose.choices)
CHANNEL_LABELS = dict(Channel.choices)

INTAKE = "i"
HANDLING = "h"

# Positions of the measures in a handling cell (models.HANDLING_MEASURES order).
H_ASSIGNED, H_ASSIGNED_REPEAT, H_ACCEPT_DONE, H_ACCEPT_TIMELY, H_ACCEPTED = 0, 1, 2, 3, 4
H_REPLY_DONE, H_REPLY_TIMELY, H_EVALUATED, H_SATISFIED, H_UNSATISFIED = 5, 6, 7, 8, 9
H_CLOSED, H_CLOSED_ONCE, H_BACKLOG_IN, H_BACKLOG_OUT = 10, 11, 12, 13
H_WIDTH = 14

# A cell key: (table, day ISO, dims...). Intake dims: office, place, category, channel,
# purpose, kind, repeat (0/1), skip (0/1). Handling dims: unit, category.
Key = tuple[Any, ...]
Cells = dict[Key, list[int]]


@dataclass(frozen=True)
class EventRow:
    kind: str
    at: dt.datetime
    to_status: str
    actor_unit_id: int | None
    data: dict[str, Any]


@dataclass(frozen=True)
class DeadlineRow:
    kind: str
    started_on: dt.date
    due_on: dt.date
    cancelled_at: dt.datetime | None


@dataclass(frozen=True)
class CaseRow:
    pk: int
    status: str
    received_at: dt.datetime
    headcount: int
    channel: str
    purpose: str
    category_id: int | None
    place_code: str
    office_unit_id: int
    is_repeat: bool
    is_skip_level: bool

    @classmethod
    def of(cls, case: Case) -> CaseRow:
        return cls(
            pk=case.pk,
            status=case.status,
            received_at=case.received_at,
            headcount=case.headcount,
            channel=case.channel,
            purpose=case.purpose,
            category_id=case.category_id,
            place_code=case.place_code,
            office_unit_id=case.office_unit_id,
            is_repeat=case.is_repeat,
            is_skip_level=case.is_skip_level,
        )


CASE_FIELDS = (
    "pk",
    "status",
    "received_at",
    "headcount",
    "channel",
    "purpose",
    "category_id",
    "place_code",
    "office_unit_id",
    "is_repeat",
    "is_skip_level",
)


_tz: Any = None


def local_day(moment: dt.datetime) -> dt.date:
    """The local date (settings.TIME_ZONE, as ``cases.deadlines.local_date``) — without
    Django's per-call lookup of the active zone: rebuilds call this for every event."""
    global _tz
    if _tz is None:
        from zoneinfo import ZoneInfo

        from django.conf import settings

        _tz = ZoneInfo(settings.TIME_ZONE)
    return moment.astimezone(_tz).date()


# --- reference maps (categories, places) ---------------------------------------------------


class CategoryMap:
    """Category id → its second-level ancestor (or itself at level 1/2); loaded once. ``l1``:
    a cell's category (second level, or first) → its first-level category (the whole tree
    only: ``ids`` loads just the rows asked for)."""

    def __init__(self, ids: Iterable[int] | None = None) -> None:
        rows = Category.objects.all()
        if ids is not None:
            wanted = [i for i in ids if i]
            rows = rows.filter(pk__in=wanted)
        self._l2: dict[int, int] = {}
        self.l1s: dict[int, int] = {}  # level 1 and 2 ids → their first-level category
        for pk, level, parent, grandparent in rows.values_list(
            "pk", "level", "parent_id", "parent__parent_id"
        ):
            if level <= 2:
                self._l2[pk] = pk
                self.l1s[pk] = pk if level == 1 else (parent or pk)
            elif level == 3:
                self._l2[pk] = parent or pk
            else:  # deeper trees: walk up (not in the seeded taxonomy)
                self._l2[pk] = grandparent or parent or pk

    def l2(self, category_id: int | None) -> int:
        if not category_id:
            return 0
        return self._l2.get(category_id, category_id)

    def l1(self, cell_category: int) -> int:
        """The first-level category of a cell's category id (0: none, or not in the tree)."""
        return self.l1s.get(cell_category, 0)


class PlaceMap:
    """``place_code`` → the place unit's id (longest division-code prefix, ties: shallowest).
    Inactive units keep their codes (old cases stay where they were)."""

    def __init__(self, codes: Iterable[str] | None = None) -> None:
        units = Unit.objects.exclude(division_code="")
        if codes is not None:
            prefixes = {c[:n] for c in codes if c and c.isdigit() for n in range(6, len(c) + 1)}
            units = units.filter(division_code__in=prefixes)
        self._by_code: dict[str, tuple[int, int]] = {}
        for pk, code, path in units.values_list("pk", "division_code", "path"):
            depth = path.count(".")
            best = self._by_code.get(code)
            if best is None or (depth, pk) < (best[1], best[0]):
                self._by_code[code] = (pk, depth)
        self._cache: dict[str, int] = {}

    def place(self, code: str) -> int:
        code = (code or "").strip()
        found = self._cache.get(code)
        if found is not None:
            return found
        found = 0
        if code.isdigit() and len(code) >= 6:
            for n in range(len(code), 5, -1):
                hit = self._by_code.get(code[:n])
                if hit is not None:
                    found = hit[0]
                    break
        self._cache[code] = found
        return found


def _reference() -> tuple[CategoryMap, PlaceMap]:
    return CategoryMap(), PlaceMap()


_maps: Any = None


def reference_maps() -> tuple[CategoryMap, PlaceMap]:
    """The category and place maps of the whole tree, cached per process (cleared when a
    category or unit is saved; other processes catch up within the cache's TTL)."""
    global _maps
    if _maps is None:
        from xinfang.core.refcache import ReferenceCache

        _maps = ReferenceCache(_reference, name="stats_maps", watch=(Category, Unit))
    result: tuple[CategoryMap, PlaceMap] = _maps.get()
    return result


def clear_reference_cache() -> None:
    if _maps is not None:
        _maps.clear()


# --- the contributions of one case -----------------------------------------------------------


def _in_force(deadlines: Sequence[DeadlineRow], kind: str, at: dt.datetime) -> DeadlineRow | None:
    """The deadline of ``kind`` in force at ``at``: opened on or before that day, not cancelled
    before it; the latest such."""
    day = local_day(at)
    best: DeadlineRow | None = None
    for d in deadlines:
        if d.kind != kind or d.started_on > day:
            continue
        if d.cancelled_at is not None and d.cancelled_at <= at:
            continue
        if best is None or d.started_on >= best.started_on:
            best = d
    return best


def _bump(cells: Cells, key: Key, index: int, width: int = H_WIDTH) -> None:
    row = cells.get(key)
    if row is None:
        row = cells[key] = [0] * width
    row[index] += 1


def contributions(
    case: CaseRow,
    events: Sequence[EventRow],
    deadlines: Sequence[DeadlineRow],
    *,
    categories: CategoryMap,
    places: PlaceMap,
) -> Cells:
    """Every rollup cell this case adds to, with its measures. Pure: the same inputs give the
    same cells, whether computed on the event (``rollup.refresh``) or from scratch
    (``rollup.recompute``)."""
    cells: Cells = {}
    if case.status == Status.MERGED:
        return cells
    cat = categories.l2(case.category_id)
    received = local_day(case.received_at)
    cells[
        (
            INTAKE,
            received.isoformat(),
            case.office_unit_id,
            places.place(case.place_code),
            cat,
            case.channel,
            case.purpose,
            kind_of(case.headcount),
            int(case.is_repeat),
            int(case.is_skip_level),
        )
    ] = [1, max(1, case.headcount)]

    def h(day: dt.date, unit: int | None, index: int) -> None:
        _bump(cells, (HANDLING, day.isoformat(), unit or case.office_unit_id, cat), index)

    holder: int | None = None  # the handling unit after the routing events seen so far
    last_reply: tuple[dt.date, int | None] | None = None
    last_eval = ""
    reviewed = False
    # (moment, open after it, holder after it) for each change of status: the 积案 timeline
    timeline: list[tuple[dt.datetime, bool, int | None]] = []

    for ev in events:
        day = local_day(ev.at)
        if ev.kind in ("assign", "forward", "transfer"):
            unit = _int(ev.data.get("unit_id"))
            holder = unit
            h(day, unit, H_ASSIGNED)
            if case.is_repeat:
                h(day, unit, H_ASSIGNED_REPEAT)
        elif ev.kind in ("return", "recuse"):
            holder = None  # back with the registering office
        elif ev.kind in ("accept", "refuse"):
            unit = ev.actor_unit_id or holder
            h(day, unit, H_ACCEPT_DONE)
            if ev.kind == "accept":
                h(day, unit, H_ACCEPTED)
            due = _in_force(deadlines, DeadlineKind.ACCEPT, ev.at)
            if due is None or day <= due.due_on:
                h(day, unit, H_ACCEPT_TIMELY)
        elif ev.kind == "reply":
            # the reply counts on the day it was served (答复送达日期), which may be before the
            # day it was recorded
            day = _date(ev.data.get("served_on")) or day
            unit = ev.actor_unit_id or holder
            h(day, unit, H_REPLY_DONE)
            due = _in_force(deadlines, DeadlineKind.HANDLE, ev.at)
            if due is None or day <= due.due_on:
                h(day, unit, H_REPLY_TIMELY)
            last_reply = (day, unit)
            last_eval = ""
        elif ev.kind == "evaluate":
            last_eval = str(ev.data.get("evaluation") or "")
        elif ev.kind == "request_review":
            reviewed = True
        elif ev.kind == "close":
            h(day, holder, H_CLOSED)
            if not reviewed and last_eval != Evaluation.UNSATISFIED:
                h(day, holder, H_CLOSED_ONCE)
        if ev.to_status:
            timeline.append((ev.at, ev.to_status in OPEN_STATUSES, holder))

    # The evaluation counted on the last reply's cell: the last one given after it.
    if last_reply is not None and last_eval:
        h(last_reply[0], last_reply[1], H_EVALUATED)
        if last_eval in (Evaluation.SATISFIED, Evaluation.BASICALLY):
            h(last_reply[0], last_reply[1], H_SATISFIED)
        elif last_eval == Evaluation.UNSATISFIED:
            h(last_reply[0], last_reply[1], H_UNSATISFIED)

    _backlog(case, timeline, h)
    return cells


def _backlog(
    case: CaseRow,
    timeline: list[tuple[dt.datetime, bool, int | None]],
    h: Any,
) -> None:
    """积案 entries and exits. The case is 积案 on a day after ``threshold`` (received +
    BACKLOG_DAYS) while it is open; a move to another unit while 积案 is an exit at the old unit
    and an entry at the new one on that day (the district total does not change)."""
    threshold = local_day(case.received_at) + dt.timedelta(days=BACKLOG_DAYS)
    if not timeline:  # no status events (bulk-loaded): open or not since it was received
        timeline = [(case.received_at, case.status in OPEN_STATUSES, None)]
    is_open = True  # open from the receipt (a back-dated registration was open before it)
    unit: int | None = None
    passed = False
    for at, opened, holder in timeline:
        day = local_day(at)
        if not passed and day > threshold:
            passed = True
            if is_open:
                h(threshold, unit, H_BACKLOG_IN)
        if passed:
            if opened and not is_open:
                h(day, holder, H_BACKLOG_IN)
            elif not opened and is_open:
                h(day, unit, H_BACKLOG_OUT)
            elif opened and holder != unit:
                h(day, unit, H_BACKLOG_OUT)
                h(day, holder, H_BACKLOG_IN)
        is_open, unit = opened, holder
    if not passed and is_open:
        # open when the threshold comes (in the past or the future): it becomes 积案 then
        h(threshold, unit, H_BACKLOG_IN)


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


# --- loading the inputs ------------------------------------------------------------------


def load_inputs(
    case_ids: Sequence[int],
) -> tuple[dict[int, CaseRow], dict[int, list[EventRow]], dict[int, list[DeadlineRow]]]:
    from xinfang.cases.models import CaseEvent, Deadline

    cases = {
        row[0]: CaseRow(*row)
        for row in Case.objects.filter(pk__in=case_ids).values_list(*CASE_FIELDS)
    }
    events: dict[int, list[EventRow]] = {pk: [] for pk in cases}
    for cid, kind, at, to_status, unit, data in (
        CaseEvent.objects.filter(counted_event_q(), case_id__in=case_ids)
        .order_by("case_id", "at", "id")
        .values_list("case_id", "kind", "at", "to_status", "actor_unit_id", "data")
    ):
        events[cid].append(EventRow(kind, at, to_status, unit, data or {}))
    dls: dict[int, list[DeadlineRow]] = {pk: [] for pk in cases}
    for cid, kind, started, due, cancelled in Deadline.objects.filter(
        case_id__in=case_ids, kind__in=(DeadlineKind.ACCEPT, DeadlineKind.HANDLE)
    ).values_list("case_id", "kind", "started_on", "due_on", "cancelled_at"):
        dls[cid].append(DeadlineRow(kind, started, due, cancelled))
    return cases, events, dls


# Events without a status change that the rules never read (notes, links, documents …) are
# not loaded; events with a status change always are.
COUNTED_KINDS = frozenset(
    {
        "assign",
        "forward",
        "transfer",
        "return",
        "recuse",
        "accept",
        "refuse",
        "reply",
        "evaluate",
        "request_review",
        "close",
    }
)


def counted_event_q() -> Q:
    return Q(kind__in=COUNTED_KINDS) | ~Q(to_status="")
