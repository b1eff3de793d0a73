"""排查轮次: screening rounds on a cadence (rules as data in ``ScreeningRule``).

The daily sweep (``screening_sweep``) opens the round of every active rule for the period that
holds today — once, with one pending ``ScreeningReport`` per active unit following the rule at
that moment — and reminds late units. A unit reports new disputes, changes on its open
disputes, or an explicit 本期无新情况; a report is submitted once (conditional UPDATE
pending→submitted). The level above reads the aggregate.

Membership is fixed when a round opens: a unit created mid-round joins from the next round; a
unit deactivated mid-round keeps its pending report (listed as 单位已停用).
"""

from __future__ import annotations

import datetime as dt
from calendar import monthrange
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from xinfang.core import workcalendar
from xinfang.core.errors import DomainError, PermissionDenied
from xinfang.core.text import clean_text
from xinfang.org import roles as R
from xinfang.org.models import Unit
from xinfang.prevention import policy
from xinfang.prevention.models import (
    Cadence,
    Dispute,
    DisputeSource,
    DisputeState,
    ReportState,
    ScreeningReport,
    ScreeningRound,
    ScreeningRule,
)
from xinfang.prevention.services import add_event, beijing_today, dispute_create

NOTHING_MSG = "请填写新发现的矛盾纠纷或情况变化，或勾选「本期无新情况」"
MIXED_MSG = (
    "已勾选「本期无新情况」，就不能同时填写新发现的矛盾纠纷或情况变化；请取消勾选或清空这些内容"
)
NOT_YOURS_MSG = "您不是该单位的工作人员或信息员，不能报送该单位的排查报告"
NOTE_MAX = 2000
MAX_ITEMS = 50
# The level above: who receives the daily list of late units.
ABOVE_ROLES = frozenset({R.UNIT_HEAD, R.LEADER, R.CASE_OFFICER})


# --- rules and periods ---------------------------------------------------------------------


def active_rules() -> list[ScreeningRule]:
    return list(ScreeningRule.objects.filter(is_active=True).order_by("priority", "id"))


def rule_for(unit: Unit, rules: Iterable[ScreeningRule] | None = None) -> ScreeningRule | None:
    """The first active rule (by priority) whose unit types hold the unit's type and, with
    ``petition_office_only``, that is a petition office; None if the unit screens under none."""
    for rule in active_rules() if rules is None else rules:
        if unit.unit_type not in (rule.unit_types or []):
            continue
        if rule.petition_office_only and not unit.is_petition_office:
            continue
        return rule
    return None


def period_of(cadence: str, day: dt.date) -> tuple[dt.date, dt.date, str]:
    """The period of ``cadence`` holding ``day``: (first day, last day, label).

    Weekly: Monday–Sunday, labelled by ISO week ("2026年第48周"; a week across the new year
    carries its ISO year). Half-monthly: 1–15 and 16–month end. Monthly: the calendar month."""
    if cadence == Cadence.WEEKLY:
        start = day - dt.timedelta(days=day.weekday())
        iso = day.isocalendar()
        return start, start + dt.timedelta(days=6), f"{iso.year}年第{iso.week}周"
    last = monthrange(day.year, day.month)[1]
    if cadence == Cadence.HALF_MONTHLY:
        if day.day <= 15:
            return day.replace(day=1), day.replace(day=15), f"{day.year}年{day.month}月上半月"
        return day.replace(day=16), day.replace(day=last), f"{day.year}年{day.month}月下半月"
    if cadence == Cadence.MONTHLY:
        return day.replace(day=1), day.replace(day=last), f"{day.year}年{day.month}月"
    raise ValueError(f"未知的排查周期：{cadence}")


def due_on(
    rule: ScreeningRule, period_end: dt.date, period_start: dt.date | None = None
) -> dt.date:
    """``due_workdays`` working days after the period's last day; 0 = the period's last
    working day (if the period has none, the next working day). Always a working day."""
    if rule.due_workdays > 0:
        return workcalendar.add_days(
            period_end, rule.due_workdays, working_days=True, roll_to_workday=True
        )
    first = period_start or period_end
    d = period_end
    while d >= first:
        if workcalendar.is_workday(d):
            return d
        d -= dt.timedelta(days=1)
    return workcalendar.add_days(period_end, 1, working_days=True, roll_to_workday=True)


def units_following(rule: ScreeningRule, rules: list[ScreeningRule]) -> list[Unit]:
    return [
        u
        for u in Unit.objects.filter(is_active=True).order_by("path")
        if (r := rule_for(u, rules)) is not None and r.pk == rule.pk
    ]


def _moment(today: dt.date, at: dt.datetime | None) -> dt.datetime:
    """The timestamp of an act on ``today``: now, or 08:00 Beijing time of a day replayed."""
    if at is not None:
        return at
    if today == beijing_today():
        return timezone.now()
    return timezone.make_aware(dt.datetime.combine(today, dt.time(8, 0)))


# --- opening rounds ------------------------------------------------------------------------


def open_rounds(
    today: dt.date | None = None, *, at: dt.datetime | None = None
) -> list[ScreeningRound]:
    """For each active rule, the round of the period holding ``today`` — created once (unique
    rule + period start; a concurrent sweep's IntegrityError → the other's row) with one
    pending report per active unit following the rule now."""
    today = today or beijing_today()
    now = _moment(today, at)
    rules = active_rules()
    rounds: list[ScreeningRound] = []
    for rule in rules:
        start, end, label = period_of(rule.cadence, today)
        existing = ScreeningRound.objects.filter(rule=rule, period_start=start).first()
        if existing is not None:
            rounds.append(existing)
            continue
        try:
            with transaction.atomic():
                rnd = ScreeningRound.objects.create(
                    rule=rule,
                    label=label,
                    period_start=start,
                    period_end=end,
                    due_on=due_on(rule, end, start),
                    opened_at=now,
                )
                ScreeningReport.objects.bulk_create(
                    [ScreeningReport(round=rnd, unit=u) for u in units_following(rule, rules)]
                )
        except IntegrityError:
            rnd = ScreeningRound.objects.get(rule=rule, period_start=start)
        rounds.append(rnd)
    return rounds


# --- submitting ----------------------------------------------------------------------------


@dataclass
class NewItem:
    """One new dispute typed in a report (``place_unit`` a unit at or below the reporting
    unit; ``unit`` the responsible unit, default the reporting unit)."""

    title: str
    parties: str
    description: str
    risk_level: str
    place_unit: Unit | None = None
    headcount: int = 1
    category: Any = None
    place_text: str = ""
    unit: Unit | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _who(user: Any) -> str:
    if user is None:
        return "他人"
    return str(user.get_full_name() or user.username)


def already_submitted_message(report: ScreeningReport) -> str:
    at = report.submitted_at
    when = timezone.localtime(at).strftime("%Y-%m-%d %H:%M") if at else "此前"
    return (
        f"本单位本轮排查已由{_who(report.submitted_by)}于{when}报送，不能重复报送；"
        "新情况请在台账中登记或在下一轮报送"
    )


def reportable_disputes(unit: Unit) -> QuerySet[Dispute]:
    """The unit's disputes still being handled (responsible unit or place is the unit)."""
    return (
        Dispute.objects.filter(Q(unit=unit) | Q(place_unit=unit))
        .exclude(state=DisputeState.STRUCK)
        .order_by("due_on", "id")
    )


def report_submit(
    by: Any,
    report: ScreeningReport,
    *,
    nothing_new: bool,
    note: str = "",
    new_items: Iterable[NewItem | Mapping[str, Any]] = (),
    changes: Mapping[int, str] | None = None,
    key: str | None = None,
    at: dt.datetime | None = None,
) -> ScreeningReport:
    """Submit a unit's round report.

    Guard: ``by`` is staff or 信息员 of the unit itself (else PermissionDenied); either 本期无新
    情况 or at least one new item/change, not both; the report still pending (a second submit is
    refused naming who and when). Effect, in one transaction: pending→submitted (conditional
    UPDATE), each new item a dispute (source 排查发现, linked to the report), each change a
    ``round_update`` event on the dispute, counts and ``is_late`` (after the due date). A bad new
    item rolls everything back (its ``DomainError.field`` is ``n-<i>-<field>``)."""
    now = at or timezone.now()
    if not policy.may_report_for(by, report.unit_id):
        raise PermissionDenied(NOT_YOURS_MSG)
    note = clean_text(note or "")
    if len(note) > NOTE_MAX:
        raise DomainError(f"排查情况说明不能超过{NOTE_MAX}字", field="note")
    items = [i if isinstance(i, NewItem) else NewItem(**dict(i)) for i in new_items]
    if len(items) > MAX_ITEMS:
        raise DomainError(f"一次最多报送{MAX_ITEMS}条新发现的矛盾纠纷", field="new_items")
    change_texts = {
        int(pk): clean_text(text or "")
        for pk, text in (changes or {}).items()
        if (text or "").strip()
    }
    if change_texts and not policy.in_scope(by, report.unit_id):
        # An 信息员 does not read the register: changes of open items come from unit staff.
        raise DomainError(
            "在办矛盾纠纷的情况变化由本单位工作人员报送", field=f"change-{min(change_texts)}"
        )
    if nothing_new and (items or change_texts):
        raise DomainError(MIXED_MSG, field="nothing_new")
    if not nothing_new and not items and not change_texts:
        raise DomainError(NOTHING_MSG, field="nothing_new")
    rnd = report.round
    unit = Unit.objects.get(pk=report.unit_id)
    open_ids = set(reportable_disputes(unit).values_list("pk", flat=True))
    for pk, text in change_texts.items():
        if pk not in open_ids:
            raise DomainError("只能报送本单位化解中的矛盾纠纷的情况变化", field=f"change-{pk}")
        if len(text) > NOTE_MAX:
            raise DomainError(f"情况变化不能超过{NOTE_MAX}字", field=f"change-{pk}")
    is_late = beijing_today(now) > rnd.due_on
    with transaction.atomic():
        updated = ScreeningReport.objects.filter(pk=report.pk, state=ReportState.PENDING).update(
            state=ReportState.SUBMITTED,
            nothing_new=nothing_new,
            note=note,
            submitted_by=by,
            submitted_at=now,
            is_late=is_late,
            new_count=len(items),
            changed_count=len(change_texts),
        )
        if not updated:
            report.refresh_from_db()
            raise DomainError(already_submitted_message(report), field="nothing_new")
        report.refresh_from_db()
        for i, item in enumerate(items):
            place = item.place_unit or unit
            if not place.path.startswith(unit.path):
                raise DomainError(
                    f"第{i + 1}条：发生地应为本单位或其下属单位", field=f"n-{i}-place_unit"
                )
            try:
                dispute_create(
                    by,
                    title=item.title,
                    description=item.description,
                    source=DisputeSource.SCREENING,
                    source_note=f"{rnd.rule.name} {rnd.label}",
                    parties=item.parties,
                    place_unit=place,
                    place_text=item.place_text,
                    unit=item.unit or unit,
                    risk_level=item.risk_level,
                    headcount=item.headcount,
                    category=item.category,
                    round_report=report,
                    idempotency_key=f"scr{report.pk}-{key}-{i}"[:64] if key else None,
                    at=now,
                )
            except PermissionDenied:
                raise
            except DomainError as exc:
                raise DomainError(
                    f"第{i + 1}条：{exc.message}", field=f"n-{i}-{exc.field or 'title'}"
                ) from exc
        for dispute in Dispute.objects.filter(pk__in=change_texts).order_by("pk"):
            add_event(
                dispute,
                "round_update",
                by,
                text=change_texts[dispute.pk],
                data={"round": rnd.pk, "label": rnd.label},
                report=report,
                at=now,
            )
    return report


# --- reminders -----------------------------------------------------------------------------


def _reminded_round(rule: ScreeningRule, today: dt.date) -> ScreeningRound | None:
    """The round whose late units are reminded today: the latest one already due. Reminders of a
    round stop when the next round of the rule falls due (its reminders take over)."""
    return (
        ScreeningRound.objects.filter(rule=rule, due_on__lte=today)
        .order_by("-period_start")
        .first()
    )


def _above_staff(unit: Unit) -> list[Any]:
    """Unit heads, leaders and case officers of the parent unit (or the nearest unit above
    that has any)."""
    from xinfang.notify.services import unit_staff

    node = unit.parent
    while node is not None:
        people = list(unit_staff(node, ABOVE_ROLES))
        if people:
            return people
        node = node.parent
    return []


def remind(today: dt.date | None = None, *, at: dt.datetime | None = None) -> int:
    """On a round's due date and each working day after it (until the rule's next round falls
    due), remind the reporters of each pending report (once per report × day); from the day
    after the due date, the level above gets one list of its late units per round × day.
    Nothing happens on rest days. Returns how many reports were reminded."""
    from xinfang.notify.services import notify, unit_staff

    today = today or beijing_today()
    if not workcalendar.is_workday(today):
        return 0
    now = _moment(today, at)
    day_start = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
    count = 0
    for rule in active_rules():
        rnd = _reminded_round(rule, today)
        if rnd is None:
            continue
        pending = list(
            rnd.reports.filter(state=ReportState.PENDING).select_related("unit", "unit__parent")
        )
        url = f"/prevention/rounds/{rnd.pk}/"
        for rep in pending:
            fresh = ScreeningReport.objects.filter(pk=rep.pk, state=ReportState.PENDING).filter(
                Q(reminded_at__isnull=True) | Q(reminded_at__lt=day_start)
            )
            if not fresh.update(reminded_at=now, remind_count=F("remind_count") + 1):
                continue
            count += 1
            late = "已逾期，" if today > rnd.due_on else "今天到期，"
            notify(
                unit_staff(rep.unit, policy.REPORTERS),
                kind="screening_remind",
                title=f"{rnd.label}排查报告{late}请尽快报送（{rep.unit.name}）",
                body=f"{rnd.rule.name}：报送期限 {rnd.due_on:%Y-%m-%d}。",
                url=f"/prevention/rounds/{rnd.pk}/report/{rep.unit_id}/",
                dedupe_key=f"scr-remind-{rep.pk}-{today.isoformat()}",
                at=now,
            )
        if today <= rnd.due_on:
            continue
        by_parent: dict[int, list[ScreeningReport]] = {}
        for rep in pending:
            if rep.unit.parent_id is not None:
                by_parent.setdefault(rep.unit.parent_id, []).append(rep)
        for parent_id, reps in by_parent.items():
            names = "、".join(r.unit.name for r in reps)
            parent = reps[0].unit.parent
            assert parent is not None
            notify(
                _above_staff(reps[0].unit),
                kind="screening_remind",
                title=f"{rnd.label}有{len(reps)}个单位逾期未报送排查报告（{parent.name}下属）",
                body=f"逾期未报送：{names}。报送期限 {rnd.due_on:%Y-%m-%d}。",
                url=url,
                dedupe_key=f"scr-late-{rnd.pk}-{parent_id}-{today.isoformat()}",
                at=now,
            )
    return count


def screening_sweep(today: dt.date | None = None) -> dict[str, int]:
    """The daily job: open the current rounds, then remind. Safe to run any number of times."""
    today = today or beijing_today()
    rounds = open_rounds(today)
    return {"rounds": len(rounds), "reminded": remind(today)}


# --- reading -------------------------------------------------------------------------------


def visible_unit_ids(user: Any) -> set[int]:
    """Units whose reports ``user`` reads: the reader scope plus the units they report for."""
    return set(policy.scope_ids(user)) | set(policy.reporting_units(user))


def rounds_visible_to(user: Any) -> QuerySet[ScreeningRound]:
    ids = visible_unit_ids(user)
    if not ids:
        return ScreeningRound.objects.none()
    round_ids = ScreeningReport.objects.filter(unit_id__in=ids).values("round_id")
    return ScreeningRound.objects.filter(pk__in=round_ids)


def reports_visible_to(user: Any) -> QuerySet[ScreeningReport]:
    return ScreeningReport.objects.filter(unit_id__in=visible_unit_ids(user))


def is_late(report: ScreeningReport, today: dt.date) -> bool:
    if report.state == ReportState.SUBMITTED:
        return report.is_late
    return today > report.round.due_on


def late_reports(rnd: ScreeningRound, today: dt.date | None = None) -> QuerySet[ScreeningReport]:
    """Reports of the round submitted late, or still pending after the due date."""
    today = today or beijing_today()
    cond = Q(is_late=True)
    if today > rnd.due_on:
        cond |= Q(state=ReportState.PENDING)
    return rnd.reports.filter(cond).select_related("unit", "submitted_by").order_by("unit__path")


@dataclass
class Tally:
    expected: int = 0
    submitted: int = 0
    nothing_new: int = 0
    late: int = 0
    new_items: int = 0
    changes: int = 0

    def add(self, rep: ScreeningReport, today: dt.date) -> None:
        self.expected += 1
        if rep.state == ReportState.SUBMITTED:
            self.submitted += 1
            self.nothing_new += int(rep.nothing_new)
            self.new_items += rep.new_count
            self.changes += rep.changed_count
        self.late += int(is_late(rep, today))

    @property
    def completion(self) -> int:
        return round(100 * self.submitted / self.expected) if self.expected else 0


@dataclass
class Group:
    parent: Unit | None
    tally: Tally
    reports: list[ScreeningReport]


def round_aggregate(
    rnd: ScreeningRound, viewer: Any, today: dt.date | None = None
) -> dict[str, Any]:
    """What ``viewer`` sees of a round: the totals and, per parent unit, its reports (only the
    units in the viewer's scope or reported for by the viewer)."""
    today = today or beijing_today()
    ids = visible_unit_ids(viewer)
    reports = list(
        rnd.reports.filter(unit_id__in=ids)
        .select_related("unit", "unit__parent", "submitted_by")
        .order_by("unit__path")
    )
    total = Tally()
    groups: dict[int | None, Group] = {}
    for rep in reports:
        rep.late = is_late(rep, today)  # type: ignore[attr-defined]
        total.add(rep, today)
        group = groups.get(rep.unit.parent_id)
        if group is None:
            group = groups[rep.unit.parent_id] = Group(rep.unit.parent, Tally(), [])
        group.tally.add(rep, today)
        group.reports.append(rep)
    return {
        "round": rnd,
        "total": total,
        "groups": list(groups.values()),
        "late": [r for r in reports if r.late],  # type: ignore[attr-defined]
        "reports": reports,
    }


def screening_summary(
    user: Any, unit: Unit | None = None, today: dt.date | None = None
) -> list[dict[str, Any]]:
    """For the dashboard: per active rule, the current round (the period holding today) and the
    latest round already due, limited to the units in ``user``'s scope (and under ``unit``):
    expected, submitted, completion %, late unit names."""
    today = today or beijing_today()
    ids = visible_unit_ids(user)
    if unit is not None:
        under = set(Unit.objects.filter(path__startswith=unit.path).values_list("pk", flat=True))
        ids &= under
    out: list[dict[str, Any]] = []
    if not ids:
        return out
    for rule in active_rules():
        current = ScreeningRound.objects.filter(rule=rule, period_start__lte=today).order_by(
            "-period_start"
        )[:2]
        for rnd in current:
            reps = list(
                rnd.reports.filter(unit_id__in=ids)
                .select_related("unit", "round")
                .order_by("unit__path")
            )
            if not reps:
                continue
            tally = Tally()
            for rep in reps:
                tally.add(rep, today)
            out.append(
                {
                    "round": rnd,
                    "rule": rule,
                    "is_due": today >= rnd.due_on,
                    "expected": tally.expected,
                    "submitted": tally.submitted,
                    "completion": tally.completion,
                    "late": tally.late,
                    "late_units": [r.unit.name for r in reps if is_late(r, today)],
                    "url": f"/prevention/rounds/{rnd.pk}/",
                }
            )
    return out


def my_pending(user: Any, today: dt.date | None = None) -> list[ScreeningReport]:
    """Pending reports of the units ``user`` reports for, overdue first, then by due date."""
    today = today or beijing_today()
    ids = policy.reporting_units(user)
    rows = list(
        ScreeningReport.objects.filter(unit_id__in=ids, state=ReportState.PENDING)
        .select_related("round", "round__rule", "unit")
        .order_by("round__due_on", "unit__path")
    )
    for r in rows:
        r.late = today > r.round.due_on  # type: ignore[attr-defined]
    rows.sort(key=lambda r: (not r.late, r.round.due_on))  # type: ignore[attr-defined]
    return rows
