"""Manual 催办/督办 by a supervisor (督查员), and queueing a sweep run ("立即运行")."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from xinfang.cases.models import OBLIGATION_KINDS, OPEN_STATUSES, Case, CaseEvent, Deadline
from xinfang.core.errors import DomainError, PermissionDenied
from xinfang.core.text import clean_text
from xinfang.notify.services import leaders_over, notify, unit_heads, unit_staff
from xinfang.org import roles as R
from xinfang.org.policy import role_codes
from xinfang.supervision.models import Stage, SupervisionStep, SweepRun
from xinfang.supervision.sweep import UNIT_SIDE, message

MANUAL_STAGES: dict[str, str] = {Stage.URGE.value: "催办", Stage.SUPERVISE.value: "督办"}
VIEWER_ROLES = frozenset({R.SUPERVISOR, R.CASE_OFFICER, R.LEADER})


def may_supervise(user: Any) -> bool:
    return bool(user.is_authenticated and R.SUPERVISOR in role_codes(user))


def may_supervise_case(user: Any, case: Case) -> bool:
    """A 督查员 post in a unit at or above the case's registering office or handling unit: a
    supervisor post elsewhere does not reach a case the user sees through another post."""
    from xinfang.org.policy import posts_of

    if not may_supervise(user):
        return False
    paths = [u.path for u in (case.office_unit, case.handling_unit) if u is not None]
    return any(
        p.role == R.SUPERVISOR
        and any(path.startswith(p.scope_path or p.unit_path) for path in paths)
        for p in posts_of(user)
    )


def may_run(user: Any) -> bool:
    """ "立即运行": supervisors and the office's 办案员."""
    return bool(user.is_authenticated and role_codes(user) & {R.SUPERVISOR, R.CASE_OFFICER})


def may_view(user: Any) -> bool:
    return bool(user.is_authenticated and role_codes(user) & VIEWER_ROLES)


def case_supervise(
    *, case: Case, by: Any, stage: str, note: str = "", at: dt.datetime | None = None
) -> CaseEvent:
    """A supervisor's 催办 (urge) or 督办 (supervise) on an open case: a step, the event (same
    kinds and data as the sweep's) and notifications to the responsible unit."""
    if not may_supervise_case(by, case):
        raise PermissionDenied(
            "只有督查员可以催办或督办：须在该事项的登记单位、承办单位或其上级单位任督查员"
        )
    if stage not in MANUAL_STAGES:
        raise DomainError("请选择催办或督办", field="stage")
    if case.status not in OPEN_STATUSES:
        raise DomainError(
            f"该事项已{case.get_status_display()}，无需{MANUAL_STAGES[stage]}", field="stage"
        )
    note = clean_text(note or "").strip()
    if len(note) > 500:
        raise DomainError("督办意见不能超过500字", field="note")
    now = at or timezone.now()
    today = timezone.localdate(now)
    deadline = (
        Deadline.objects.filter(
            case=case,
            kind__in=OBLIGATION_KINDS,
            met_at__isnull=True,
            cancelled_at__isnull=True,
        )
        .order_by("due_on", "pk")
        .first()
    )
    kind = deadline.kind if deadline else ""
    unit = case.handling_unit if kind in UNIT_SIDE or (not kind and case.handling_unit) else None
    unit = unit or case.office_unit
    due = deadline.due_on if deadline else today
    overdue = (today - due).days
    if stage == Stage.URGE:
        to = list(unit_staff(unit)) if unit == case.handling_unit else []
        to += list(unit_heads(unit))
    else:
        to = list(unit_heads(unit)) + list(leaders_over(unit))
    if not to:
        to = list(unit_staff(case.office_unit, {R.CASE_OFFICER}))
    if case.is_confidential:
        from xinfang.cases.policy import cases_visible_to

        to = [u for u in to if cases_visible_to(u).filter(pk=case.pk).exists()]
    ids = list(dict.fromkeys(u.pk for u in to))
    title, body = message(stage, case, kind or "handle", due, overdue)
    if note:
        body = f"{body}\n督办意见：{note}"
    with transaction.atomic():
        step = SupervisionStep.objects.create(
            case=case,
            deadline=deadline,
            rule=None,
            stage=stage,
            unit=unit,
            due_on=due,
            days_overdue=overdue,
            by=by,
            at=now,
        )
        from xinfang.org.policy import units_with_role

        units = units_with_role(by, {R.SUPERVISOR})
        ev = CaseEvent.objects.create(
            case=case,
            kind=stage,
            actor=by,
            actor_unit=units[0] if units else None,
            at=now,
            text=note or title,
            data={
                "rule_id": None,
                "stage": stage,
                "step_id": step.pk,
                "deadline_id": deadline.pk if deadline else None,
                "deadline_kind": kind,
                "due_on": due.isoformat(),
                "days_overdue": overdue,
                "unit_id": unit.pk,
                "unit": unit.name,
                "recipients": ids,
                "manual": True,
            },
        )
        step.event = ev
        step.save(update_fields=["event"])
        notify(
            [u for u in to if u.pk in ids],
            kind=stage,
            title=title,
            body=body,
            case=case,
            dedupe_key=f"manual:{step.pk}",
            email=True,
            at=now,
        )
    return ev


def request_sweep(*, by: Any) -> SweepRun:
    """ "立即运行": a queued ``SweepRun`` and its background task (the row shows progress)."""
    if not may_run(by):
        raise PermissionDenied("只有督查员或办案员可以运行督办扫描")
    # A run queued within the hour and not finished blocks another (a killed worker's row
    # stops blocking after that).
    active = SweepRun.objects.filter(
        state__in=[SweepRun.State.QUEUED, SweepRun.State.RUNNING],
        queued_at__gte=timezone.now() - dt.timedelta(hours=1),
    ).first()
    if active is not None:
        raise DomainError(f"督办扫描 #{active.pk} 正在{active.get_state_display()}，请稍候")
    run = SweepRun.objects.create(state=SweepRun.State.QUEUED, requested_by=by)
    from xinfang.supervision.tasks import sweep_deadlines

    transaction.on_commit(lambda: sweep_deadlines.enqueue(run_id=run.pk))
    return run
