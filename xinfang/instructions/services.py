"""领导批示 services: one function per state change, plus the overdue sweep.

Each one: guard (who may, which state, its field rules) → conditional UPDATE (of two clicks
only one wins) or the unique index → ``CaseEvent`` → notifications. Views, the API, the
management command and the background task all call these.

Who:
- instruct: a 领导 holding the LEADER post in a unit at or above the case's registering office
  or handling unit, who can see the case (``cases_visible_to``: an accused never can);
- report: 承办人 / 单位负责人 / 办案员 of the instruction's target unit itself;
- close (accept) / send back: the instructing leader, or another leader of the same unit.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from xinfang.cases.models import Case, CaseEvent
from xinfang.cases.policy import cases_visible_to
from xinfang.core.errors import ConcurrentChange, DomainError, PermissionDenied
from xinfang.core.text import clean_text
from xinfang.instructions.models import Instruction, InstructionUrge
from xinfang.instructions.models import InstructionState as St
from xinfang.org import roles as R
from xinfang.org.models import Unit
from xinfang.org.policy import holds_role_over, posts_of, visible_unit_ids

REPORTERS = frozenset({R.HANDLER, R.UNIT_HEAD, R.CASE_OFFICER})
TEXT_MAX = 2000
DUE_MAX_DAYS = 366
# Overdue stages (days past the due date) at which the sweep issues one 催办单 each.
DEFAULT_URGE_STAGES = (1, 7)


def urge_stages() -> tuple[int, ...]:
    stages = getattr(settings, "INSTRUCTION_URGE_STAGES", DEFAULT_URGE_STAGES)
    return tuple(sorted({int(s) for s in stages if int(s) > 0}))


# --- who ---------------------------------------------------------------------------------


def leader_unit_for(user: Any, case: Case) -> Unit | None:
    """The unit in which ``user`` is a leader over the case (the nearest one), or None."""
    paths = [u.path for u in (case.office_unit, case.handling_unit) if u is not None]
    best = None
    for post in posts_of(user):
        if post.role != R.LEADER:
            continue
        if any(p.startswith(post.unit_path) for p in paths) and (
            best is None or len(post.unit_path) > len(best.unit_path)
        ):
            best = post
    if best is None:
        return None
    return Unit.objects.get(pk=best.unit_id)


def may_instruct(user: Any, case: Case) -> bool:
    return (
        leader_unit_for(user, case) is not None
        and cases_visible_to(user).filter(pk=case.pk).exists()
    )


def may_report(user: Any, ins: Instruction) -> bool:
    return holds_role_over(user, ins.target_unit, REPORTERS)


def may_close(user: Any, ins: Instruction) -> bool:
    return ins.leader_id == getattr(user, "pk", None) or holds_role_over(
        user, ins.leader_unit, {R.LEADER}
    )


def target_choices(case: Case) -> list[Unit]:
    """Units an instruction on ``case`` may be addressed to: the handling unit (default), and
    the registering office."""
    units = [u for u in (case.handling_unit, case.office_unit) if u is not None and u.is_active]
    seen: set[int] = set()
    return [u for u in units if not (u.pk in seen or seen.add(u.pk))]  # type: ignore[func-returns-value]


def instructions_visible_to(user: Any) -> QuerySet[Instruction]:
    """Instructions on cases the user can see, given by them or addressed to a unit in their
    reading scope. Another unit's instruction does not exist for them (404)."""
    units = visible_unit_ids(user, R.CASE_READERS)
    if not units:
        return Instruction.objects.none()
    cases = cases_visible_to(user)
    return Instruction.objects.filter(case__in=cases.values("pk")).filter(
        Q(leader_id=user.pk) | Q(target_unit_id__in=units)
    )


# --- helpers -----------------------------------------------------------------------------


def _text(value: str, field: str, what: str) -> str:
    value = clean_text(value or "").strip()
    if len(value) < 2:
        raise DomainError(f"请填写{what}（至少 2 个字）", field=field)
    if len(value) > TEXT_MAX:
        raise DomainError(f"{what}不能超过 {TEXT_MAX} 字（现为 {len(value)} 字）", field=field)
    return value


def _event(
    ins: Instruction,
    kind: str,
    *,
    by: Any,
    unit: Unit | None,
    at: dt.datetime,
    text: str = "",
    **data: Any,
) -> CaseEvent:
    case = ins.case
    return CaseEvent.objects.create(
        case=case,
        kind=kind,
        actor=by,
        actor_unit=unit,
        at=at,
        from_status=case.status,
        to_status=case.status,
        text=text,
        data={
            "instruction_id": ins.pk,
            "due_on": ins.due_on.isoformat(),
            "unit_id": ins.target_unit_id,
            "unit": ins.target_unit.name,
            **data,
        },
    )


def _without_accused(users: Any, case: Case) -> list[Any]:
    """Recipients who may still open the case: not the accused of a 检举控告 case, and not the
    staff of a unit the case has left since the instruction (转办, 退回, 回避) — the body is
    the instruction text, which they may no longer read."""
    users = list(users)
    return [u for u in users if cases_visible_to(u).filter(pk=case.pk).exists()]


def _notify(
    users: Any,
    ins: Instruction,
    *,
    kind: str,
    title: str,
    body: str,
    key: str,
    at: Any,
    email: bool = False,
) -> int:
    from xinfang.notify.services import notify

    return notify(
        _without_accused(users, ins.case),
        kind=kind,
        title=title,
        body=body,
        case=ins.case,
        url=f"/cases/{ins.case_id}/#instructions",
        dedupe_key=key,
        email=email,
        at=at,
    )


def _swap_state(ins: Instruction, frm: str, **changes: Any) -> None:
    """Conditional UPDATE: of two people acting at once only one wins."""
    won = Instruction.objects.filter(pk=ins.pk, state=frm).update(**changes)
    if not won:
        current = Instruction.objects.get(pk=ins.pk)
        raise ConcurrentChange(
            f"该批示刚被他人处理（当前状态：{current.get_state_display()}），请刷新后查看"
        )
    for key, value in changes.items():
        setattr(ins, key, value)


# --- state changes -----------------------------------------------------------------------


def instruct(
    *,
    case: Case,
    by: Any,
    text: str,
    due_on: dt.date | None,
    target_unit: Unit | None = None,
    at: dt.datetime | None = None,
) -> Instruction:
    """领导批示. Guard: a 领导 over the case's registering office or handling unit who can see
    the case; 批示内容 2–2000 字; 落实期限 from today to one year ahead; the target unit is the
    handling unit (default) or the registering office. Event: ``instruct``; the target unit's
    承办人/单位负责人/办案员 are notified (in-app and e-mail)."""
    leader_unit = leader_unit_for(by, case)
    if leader_unit is None or not cases_visible_to(by).filter(pk=case.pk).exists():
        raise PermissionDenied("只有对该事项有管辖权的领导可以批示")
    text = _text(text, "text", "批示内容")
    now = at or timezone.now()
    today = timezone.localdate(now)
    if due_on is None:
        raise DomainError("请填写落实期限", field="due_on")
    if due_on < today:
        raise DomainError(f"落实期限不能早于今天（{today:%Y-%m-%d}）", field="due_on")
    if due_on > today + dt.timedelta(days=DUE_MAX_DAYS):
        raise DomainError("落实期限不能超过一年", field="due_on")
    choices = target_choices(case)
    if not choices:
        raise DomainError("该事项没有可落实批示的单位", field="target_unit")
    target = target_unit or choices[0]
    if target.pk not in {u.pk for u in choices}:
        raise DomainError(
            f"批示只能交「{'」或「'.join(u.name for u in choices)}」落实", field="target_unit"
        )
    with transaction.atomic():
        ins = Instruction.objects.create(
            case=case,
            leader=by,
            leader_unit=leader_unit,
            text=text,
            due_on=due_on,
            target_unit=target,
            created_at=now,
        )
        _event(ins, "instruct", by=by, unit=leader_unit, at=now, text=text)
        _notify(
            _staff(target),
            ins,
            kind="instruction",
            title=f"领导批示：{case.number}，请于 {due_on:%Y-%m-%d} 前落实并报告",
            body=text,
            key=f"instruction:{ins.pk}",
            at=now,
            email=True,
        )
    return ins


def _staff(unit: Unit) -> Any:
    from xinfang.notify.services import unit_staff

    return unit_staff(unit, REPORTERS)


def instruction_report(
    *, ins: Instruction, by: Any, text: str, at: dt.datetime | None = None
) -> Instruction:
    """报告落实情况. Guard: 承办人/单位负责人/办案员 of the target unit; the instruction is 待落实.
    Effect: 已报告. Event: ``instruction_report``; the leader is notified."""
    if not may_report(by, ins):
        raise PermissionDenied(f"只有「{ins.target_unit.name}」的工作人员可以报告批示落实情况")
    if ins.state != St.OPEN:
        raise DomainError(f"该批示{ins.get_state_display()}，不能再报告", field="text")
    text = _text(text, "text", "落实情况")
    now = at or timezone.now()
    with transaction.atomic():
        _swap_state(
            ins, St.OPEN, state=St.REPORTED, report_text=text, reported_by=by, reported_at=now
        )
        _event(ins, "instruction_report", by=by, unit=ins.target_unit, at=now, text=text)
        _notify(
            [ins.leader],
            ins,
            kind="instruction_report",
            title=f"批示落实报告：{ins.case.number}（{ins.target_unit.name}）",
            body=text,
            key=f"instruction_report:{ins.pk}:{ins.returned_count}",
            at=now,
        )
    return ins


def instruction_close(
    *, ins: Instruction, by: Any, note: str = "", at: dt.datetime | None = None
) -> Instruction:
    """办结（采纳报告）. Guard: the instructing leader (or a leader of the same unit); the
    instruction is 已报告. Effect: 已办结. Event: ``instruction_close``."""
    if not may_close(by, ins):
        raise PermissionDenied("只有作出批示的领导可以办结该批示")
    if ins.state != St.REPORTED:
        raise DomainError(
            f"该批示{ins.get_state_display()}，须在承办单位报告落实情况后办结", field="note"
        )
    note = clean_text(note or "").strip()[:TEXT_MAX]
    now = at or timezone.now()
    with transaction.atomic():
        _swap_state(ins, St.REPORTED, state=St.CLOSED, close_note=note, closed_by=by, closed_at=now)
        _event(ins, "instruction_close", by=by, unit=ins.leader_unit, at=now, text=note)
    return ins


def instruction_send_back(
    *,
    ins: Instruction,
    by: Any,
    note: str,
    due_on: dt.date | None = None,
    at: dt.datetime | None = None,
) -> Instruction:
    """退回重报. Guard: as ``instruction_close``; a reason is required; an optional new due date
    (not before today). Effect: 待落实 again. Event: ``instruction_return``; the target unit is
    notified."""
    if not may_close(by, ins):
        raise PermissionDenied("只有作出批示的领导可以退回落实报告")
    if ins.state != St.REPORTED:
        raise DomainError(f"该批示{ins.get_state_display()}，没有可退回的报告", field="note")
    note = _text(note, "note", "退回意见")
    now = at or timezone.now()
    today = timezone.localdate(now)
    if due_on is not None and due_on < today:
        raise DomainError(f"新的落实期限不能早于今天（{today:%Y-%m-%d}）", field="due_on")
    changes: dict[str, Any] = {
        "state": St.OPEN,
        "last_return_note": note,
        "returned_count": ins.returned_count + 1,
    }
    if due_on is not None:
        changes["due_on"] = due_on
    with transaction.atomic():
        _swap_state(ins, St.REPORTED, **changes)
        _event(ins, "instruction_return", by=by, unit=ins.leader_unit, at=now, text=note)
        _notify(
            _staff(ins.target_unit),
            ins,
            kind="instruction",
            title=f"批示落实报告被退回：{ins.case.number}，请于 {ins.due_on:%Y-%m-%d} 前重新报告",
            body=note,
            key=f"instruction_return:{ins.pk}:{ins.returned_count}",
            at=now,
        )
    return ins


# --- 催办 sweep --------------------------------------------------------------------------


def instructions_sweep(today: dt.date | None = None, *, at: dt.datetime | None = None) -> int:
    """Open instructions past due: one ``instruction_urge`` (催办单) per instruction and overdue
    stage reached (the highest not yet issued; a stage already passed is not issued late).
    Notifies the target unit's heads and the leader. Idempotent: the unique (instruction,
    stage) row — running it twice, or two at once, issues nothing new. Returns the count."""
    now = at or timezone.now()
    today = today or timezone.localdate(now)
    stages = urge_stages()
    if not stages:
        return 0
    first = stages[0]
    candidates = (
        Instruction.objects.filter(state=St.OPEN, due_on__lte=today - dt.timedelta(days=first))
        .select_related("case", "target_unit", "leader", "leader_unit")
        .order_by("due_on", "id")
    )
    issued = 0
    for ins in candidates.iterator(chunk_size=200):
        late = (today - ins.due_on).days
        stage = max(s for s in stages if s <= late)
        if InstructionUrge.objects.filter(instruction=ins, stage__gte=stage).exists():
            continue
        if _urge(ins, stage, late, now):
            issued += 1
    return issued


def _urge(ins: Instruction, stage: int, late: int, now: dt.datetime) -> bool:
    from xinfang.notify.services import unit_heads

    try:
        with transaction.atomic():
            urge = InstructionUrge.objects.create(
                instruction=ins, stage=stage, days_overdue=late, at=now
            )
            event = _event(
                ins,
                "instruction_urge",
                by=None,
                unit=ins.leader_unit,
                at=now,
                text=f"领导批示已超过落实期限 {late} 天，请抓紧落实并报告。",
                days_overdue=late,
                stage=stage,
            )
            InstructionUrge.objects.filter(pk=urge.pk).update(event=event)
            heads = list(unit_heads(ins.target_unit)) or list(_staff(ins.target_unit))
            _notify(
                [*heads, ins.leader],
                ins,
                kind="instruction_urge",
                title=f"批示催办：{ins.case.number} 已超期 {late} 天（{ins.target_unit.name}）",
                body=ins.text,
                key=f"instruction_urge:{ins.pk}:{stage}",
                at=now,
            )
    except IntegrityError:
        return False  # another sweep issued this stage first
    return True
