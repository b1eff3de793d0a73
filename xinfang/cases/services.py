"""Lifecycle services: one function per state change.

Each one: checks the guard (role and unit via ``policy.require``, the from-state, its own field
rules), writes the new state with a conditional UPDATE so that of two clerks acting at once only
one wins (the other gets ``ConcurrentChange``), appends a ``CaseEvent``, and opens, meets or
cancels ``Deadline`` rows. Registration lives in ``registration.py``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from xinfang.cases import deadlines
from xinfang.cases.models import (
    OBLIGATION_KINDS,
    Case,
    CaseEvent,
    DeadlineKind,
    Evaluation,
    EvaluationChannel,
    ExtensionRequest,
    ServeMethod,
)
from xinfang.cases.policy import may_add_to_file, require, routing_targets, staff_user
from xinfang.cases.signals import announce_routed, case_closed, case_evaluated
from xinfang.cases.transitions import ACTIONS
from xinfang.core.errors import ConcurrentChange, DomainError, PermissionDenied
from xinfang.core.text import clean_text
from xinfang.org.models import Unit

K = DeadlineKind


def _actor_unit(by: Any, case: Case, side: str) -> Unit | None:
    return case.office_unit if side == "office" else case.handling_unit


def _text(value: str, field: str, what: str, *, min_len: int = 2) -> str:
    value = clean_text(value).strip()
    if len(value) < min_len:
        raise DomainError(f"请填写{what}", field=field)
    return value


def _transition(
    *,
    case: Case,
    by: Any,
    action_code: str,
    text: str = "",
    data: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
    changes: dict[str, Any] | None = None,
) -> CaseEvent:
    """Shared core: guard, conditional UPDATE, event. Must run inside a transaction."""
    action = require(by, action_code, case)
    now = at or timezone.now()
    from_status = case.status
    to_status = action.to_state or from_status
    updates = dict(changes or {})
    updates["status"] = to_status
    updates["updated_at"] = now
    # Same status *and* same handling unit: a case returned and re-assigned to another unit in
    # the meantime (same status again) must not accept a stale clerk's action.
    won = Case.objects.filter(
        pk=case.pk, status=from_status, handling_unit_id=case.handling_unit_id
    ).update(**updates)
    if not won:
        current = Case.objects.get(pk=case.pk)
        raise ConcurrentChange(
            f"该事项刚被他人处理（当前状态：{current.get_status_display()}），"
            f"「{action.label}」未执行，请刷新后查看"
        )
    for key, value in updates.items():
        setattr(case, key, value)
    data = dict(data or {})
    actor = staff_user(by)
    if actor is None:  # the petitioner on the portal (cases.policy.PetitionerPrincipal)
        data["by_petitioner"] = by.channel
    return CaseEvent.objects.create(
        case=case,
        kind=action_code,
        actor=actor,
        actor_unit=_actor_unit(by, case, action.side) if actor is not None else None,
        at=now,
        from_status=from_status,
        to_status=to_status,
        text=clean_text(text).strip(),  # control/bidi/format characters out (core/text.py)
        data=data,
    )


def _route(
    case: Case, by: Any, code: str, unit: Unit, note: str, at: dt.datetime | None
) -> CaseEvent:
    if not unit.is_active:
        raise DomainError(f"单位「{unit.name}」已停用，请选择其他单位", field="unit")
    from xinfang.cases.confidential import routing_refusal

    recused = routing_refusal(case, unit)
    if recused:
        raise DomainError(recused, field="unit")
    if not routing_targets(case.office_unit).filter(pk=unit.pk).exists():
        raise DomainError(
            f"不能交办或转送给「{unit.name}」：须为本辖区内、有承办人或单位负责人的单位",
            field="unit",
        )
    with transaction.atomic():
        now = at or timezone.now()
        ev = _transition(
            case=case,
            by=by,
            action_code=code,
            text=note.strip(),
            data={"unit_id": unit.pk, "unit": unit.name},
            at=now,
            changes={"handling_unit": unit},
        )
        deadlines.deadlines_meet(case, {K.ROUTE}, now)
        deadlines.deadline_open(case, K.ACCEPT, deadlines.local_date(now))
        transaction.on_commit(lambda: announce_routed(case, unit=unit, by=by, action=code, at=now))
        return ev


def case_assign(
    *, case: Case, by: Any, unit: Unit, note: str = "", at: dt.datetime | None = None
) -> CaseEvent:
    """交办 to a unit that must handle and report back. Guard: office 办案员; state 已登记/已退回.
    Effect: handling unit set; routing deadline met; 15-day acceptance deadline opened.
    Event: ``assign``."""
    return _route(case, by, "assign", unit, note, at)


def case_forward(
    *, case: Case, by: Any, unit: Unit, note: str = "", at: dt.datetime | None = None
) -> CaseEvent:
    """转送 to the competent organ. Guard and effects as ``case_assign``. Event: ``forward``."""
    return _route(case, by, "forward", unit, note, at)


def case_inform(
    *,
    case: Case,
    by: Any,
    reason: str,
    at: dt.datetime | None = None,
    organ_id: int | None = None,
) -> CaseEvent:
    """告知: not accepted here (涉法涉诉, other jurisdiction, 已终结 …); the petitioner is told
    why and where to go. Guard: office desk staff; state 已登记/已退回; reason required; the
    optional ``organ_id`` (办事指南) must be an active organ.
    Effect: routing deadline met. Event: ``inform`` with the notice text (and, with an organ,
    ``data["organ"]``: a snapshot of its name, address, phone, hours and remedy wording)."""
    reason = _text(reason, "reason", "告知理由（不予受理的原因及应向何处反映）", min_len=4)
    data: dict[str, Any] = {}
    if organ_id is not None:
        from xinfang.directory.models import Organ
        from xinfang.directory.services import organ_snapshot

        organ = Organ.objects.filter(pk=organ_id, is_active=True).first()
        if organ is None:
            raise DomainError("所选有权处理机关不存在或已停用，请重新选择", field="organ")
        data["organ"] = organ_snapshot(organ)
    with transaction.atomic():
        now = at or timezone.now()
        ev = _transition(case=case, by=by, action_code="inform", text=reason, at=now, data=data)
        deadlines.deadlines_meet(case, {K.ROUTE}, now)
        return ev


def case_sign_in(*, case: Case, by: Any, at: dt.datetime | None = None) -> CaseEvent:
    """签收 by the handling unit. Guard: 承办人/单位负责人 of the handling unit; state
    已交办/已转送. Event: ``sign_in``."""
    with transaction.atomic():
        return _transition(case=case, by=by, action_code="sign_in", at=at)


def case_accept(
    *, case: Case, by: Any, notice_text: str, at: dt.datetime | None = None
) -> CaseEvent:
    """受理 with the written notice to the petitioner. Guard: handling unit staff; state 已签收;
    notice text required. Effect: acceptance deadline met; 60-day handling deadline opened.
    Event: ``accept``."""
    notice_text = _text(notice_text, "notice_text", "受理告知书内容")
    with transaction.atomic():
        now = at or timezone.now()
        ev = _transition(case=case, by=by, action_code="accept", text=notice_text, at=now)
        deadlines.deadlines_meet(case, {K.ACCEPT}, now)
        handle = deadlines.deadline_open(case, K.HANDLE, deadlines.local_date(now))
        ev.data = {"handle_due": handle.due_on.isoformat()}
        ev.save(update_fields=["data"])
        return ev


def case_refuse(
    *, case: Case, by: Any, notice_text: str, at: dt.datetime | None = None
) -> CaseEvent:
    """不予受理 with the written notice (reason and the proper channel). Guard: handling unit
    staff; state 已签收. Effect: acceptance deadline met. Event: ``refuse``."""
    notice_text = _text(
        notice_text, "notice_text", "不予受理告知书内容（理由及救济途径）", min_len=4
    )
    with transaction.atomic():
        now = at or timezone.now()
        ev = _transition(case=case, by=by, action_code="refuse", text=notice_text, at=now)
        deadlines.deadlines_meet(case, {K.ACCEPT}, now)
        return ev


def case_return(*, case: Case, by: Any, reason: str, at: dt.datetime | None = None) -> CaseEvent:
    """退回 to the petition office (not ours to handle, wrong unit …). Guard: handling unit
    staff; state 已交办/已转送/已签收/已受理; reason required. Effect: handling unit cleared; open
    acceptance/handling deadlines cancelled; a new routing deadline opened for the office.
    Event: ``return`` with the reason and the unit that returned it."""
    reason = _text(reason, "reason", "退回理由", min_len=4)
    with transaction.atomic():
        now = at or timezone.now()
        unit = case.handling_unit
        ev = _transition(
            case=case,
            by=by,
            action_code="return",
            text=reason,
            at=now,
            data={"unit_id": unit.pk if unit else None, "unit": unit.name if unit else ""},
            changes={"handling_unit": None},
        )
        ev.actor_unit = unit
        ev.save(update_fields=["actor_unit"])
        deadlines.deadlines_cancel(case, {K.ACCEPT, K.HANDLE}, now)
        deadlines.deadline_open(case, K.ROUTE, deadlines.local_date(now))
        ExtensionRequest.objects.filter(case=case, state=ExtensionRequest.State.PENDING).update(
            state=ExtensionRequest.State.DENIED, decided_at=now, decision_note="事项已退回"
        )
        return ev


def case_request_extension(
    *, case: Case, by: Any, days: int, reason: str, at: dt.datetime | None = None
) -> CaseEvent:
    """延期申请. Guard: handling unit staff; state 已受理; 1..max days (rule, 30); reason; no
    pending request and no extension granted before (one extension only).
    Effect: a pending ExtensionRequest. Event: ``request_extension``."""
    reason = _text(reason, "reason", "延期理由", min_len=4)
    limit = deadlines.rule_for(K.EXTENSION).days
    if not 1 <= days <= limit:
        raise DomainError(f"延长天数应为1至{limit}天", field="days")
    with transaction.atomic():
        now = at or timezone.now()
        # One extension per handling period: a case returned and accepted again by another
        # unit starts a new period with its own extension.
        earlier = ExtensionRequest.objects.filter(
            case=case, state__in=[ExtensionRequest.State.PENDING, ExtensionRequest.State.APPROVED]
        )
        accepted_at = (
            case.events.filter(kind="accept").order_by("-at").values_list("at", flat=True).first()
        )
        if accepted_at is not None:
            earlier = earlier.filter(requested_at__gte=accepted_at)
        if earlier.exists():
            raise DomainError("该事项已有待审批或已批准的延期申请，办理期限只能延长一次")
        ev = _transition(
            case=case,
            by=by,
            action_code="request_extension",
            text=reason,
            at=now,
            data={"days": days},
        )
        try:
            with transaction.atomic():
                ExtensionRequest.objects.create(
                    case=case, days=days, reason=reason, requested_by=by, requested_at=now
                )
        except IntegrityError as exc:
            # The partial unique index: another request for this case was filed a moment ago.
            raise ConcurrentChange("该事项刚刚已有人提交延期申请，请刷新后查看") from exc
        return ev


def case_decide_extension(
    *, case: Case, by: Any, approve: bool, note: str = "", at: dt.datetime | None = None
) -> CaseEvent:
    """延期审批 by the petition office. Guard: office 办案员; a pending request; state 已受理.
    Effect: approved → handling deadline moved by the requested days, the petitioner is to be
    told the reason (event text is the notice); denied → unchanged. Event: ``decide_extension``."""
    require(by, "decide_extension", case)
    with transaction.atomic():
        now = at or timezone.now()
        request = ExtensionRequest.objects.filter(
            case=case, state=ExtensionRequest.State.PENDING
        ).first()
        if request is None:
            raise DomainError("没有待审批的延期申请")
        if not approve and not note.strip():
            raise DomainError("不批准延期时请说明理由", field="note")
        data: dict[str, Any] = {"approved": approve, "days": request.days}
        if approve:
            # The open one: a case returned and accepted again also has a cancelled row.
            handle = case.deadlines.filter(deadlines.unmet_filter(), kind=K.HANDLE).first()
            if handle is not None:
                handle.due_on = deadlines.due_date(
                    K.HANDLE, handle.started_on, extra_days=request.days
                )
                handle.save(update_fields=["due_on"])
                data["handle_due"] = handle.due_on.isoformat()
        text = (
            f"批准延期{request.days}日。延期理由：{request.reason}"
            if approve
            else f"不批准延期：{note.strip()}"
        )
        ev = _transition(
            case=case, by=by, action_code="decide_extension", text=text, data=data, at=now
        )
        won = ExtensionRequest.objects.filter(
            pk=request.pk, state=ExtensionRequest.State.PENDING
        ).update(
            state=ExtensionRequest.State.APPROVED if approve else ExtensionRequest.State.DENIED,
            decided_by=by,
            decided_at=now,
            decision_note=note.strip(),
        )
        if not won:
            raise ConcurrentChange("该延期申请刚被他人审批，请刷新后查看")
        if approve:
            # 延期告知: the petitioner is told (portal, and SMS when the principal has a phone).
            from xinfang.notify.petitioner import send_extension_notice

            send_extension_notice(
                case=case,
                by=by,
                days=request.days,
                reason=request.reason,
                handle_due=str(data.get("handle_due", "")),
                at=now,
            )
        return ev


def case_reply(
    *,
    case: Case,
    by: Any,
    text: str,
    served_on: dt.date,
    method: str,
    at: dt.datetime | None = None,
    draft: Any = None,
    doc: dict[str, Any] | None = None,
) -> CaseEvent:
    """答复意见书 served. Guard: handling unit staff; state 已受理; a 答复意见书 approved by the
    unit head and checked by the office (``xinfang.replies``; no direct reply without one —
    ``replies.services.draft_serve`` calls this); text; served date not in the future nor
    before acceptance; method one of ServeMethod. Effect: handling deadline met;
    a pending extension request is closed (denied, "事项已答复"); the petitioner's 30-day 复查
    request window opens from the served date. Event: ``reply`` (data ``draft_id``, ``doc``)."""
    text = _text(text, "text", "答复意见", min_len=10)
    if method not in ServeMethod.values:
        raise DomainError("请选择送达方式", field="method")
    now = at or timezone.now()
    if served_on > deadlines.local_date(now):
        raise DomainError("送达日期不能晚于今天", field="served_on")
    handle = case.deadlines.filter(deadlines.unmet_filter(), kind=K.HANDLE).first()
    accepted_on = handle.started_on if handle else deadlines.local_date(case.received_at)
    if served_on < accepted_on:
        raise DomainError(f"送达日期不能早于受理日期（{accepted_on:%Y-%m-%d}）", field="served_on")
    require(by, "reply", case)
    if draft is None or draft.case_id != case.pk or draft.state != "checked":
        raise DomainError(
            "答复须使用答复意见书：请先起草，经单位负责人审批、信访机构审核后送达",
            field="text",
        )
    with transaction.atomic():
        ev = _transition(
            case=case,
            by=by,
            action_code="reply",
            text=text,
            at=now,
            data={
                "served_on": served_on.isoformat(),
                "method": method,
                "draft_id": draft.pk,
                "doc": doc or {},
            },
            changes={"served_at": served_on},
        )
        from xinfang.replies.services import mark_served

        mark_served(draft, by=by, served_on=served_on, method=method, at=now)
        deadlines.deadlines_meet(case, {K.HANDLE}, now)
        deadlines.deadline_open(case, K.REVIEW_REQUEST, served_on)
        # Replied in time: a request still pending can no longer be decided (state 已答复).
        ExtensionRequest.objects.filter(case=case, state=ExtensionRequest.State.PENDING).update(
            state=ExtensionRequest.State.DENIED,
            decided_at=now,
            decision_note="事项已答复，无需延期",
        )
        return ev


def case_evaluate(
    *,
    case: Case,
    by: Any,
    evaluation: str,
    comment: str = "",
    channel: str = EvaluationChannel.IN_PERSON,
    at: dt.datetime | None = None,
) -> CaseEvent:
    """满意度评价 recorded for the petitioner. Guard: office desk staff; state 已答复; value one
    of 满意/基本满意/不满意; channel one of 网上/电话回访/短信回复/当面. Event: ``evaluate`` (data
    evaluation, channel); ``case_evaluated`` is sent in the same transaction (不满意 → the
    office's review task, xinfang.followup)."""
    if evaluation not in Evaluation.values:
        raise DomainError("请选择评价结果：满意、基本满意或不满意", field="evaluation")
    if channel not in EvaluationChannel.values:
        raise DomainError("请选择评价渠道：网上、电话回访、短信回复或当面", field="channel")
    with transaction.atomic():
        ev = _transition(
            case=case,
            by=by,
            action_code="evaluate",
            text=comment.strip(),
            data={"evaluation": evaluation, "channel": channel},
            at=at,
            changes={"evaluation": evaluation},
        )
        case_evaluated.send(sender=Case, case=case, event=ev, by=staff_user(by))
        return ev


def case_close(*, case: Case, by: Any, note: str = "", at: dt.datetime | None = None) -> CaseEvent:
    """办结. Guard: office 办案员; state 已答复/已评价/告知/不予受理/已复查. Effect: open obligation
    deadlines cancelled (request windows stay open: the petitioner keeps the right to 复查).
    Event: ``close``."""
    with transaction.atomic():
        now = at or timezone.now()
        ev = _transition(
            case=case,
            by=by,
            action_code="close",
            text=note.strip(),
            at=now,
            changes={"closed_at": now},
        )
        deadlines.deadlines_cancel(case, OBLIGATION_KINDS, now)
        case_closed.send(sender=Case, case=case, event=ev, by=by)  # e.g. the 回访 schedule
        return ev


def _request_in_window(
    case: Case,
    by: Any,
    code: str,
    window_kind: str,
    decide_kind: str,
    reason: str,
    at: dt.datetime | None,
) -> CaseEvent:
    reason = _text(reason, "reason", "请求理由", min_len=4)
    what = ACTIONS[code].label
    with transaction.atomic():
        now = at or timezone.now()
        require(by, code, case)
        window = deadlines.open_window(case, window_kind)
        today = deadlines.local_date(now)
        if window is None:
            raise DomainError(f"该事项没有可以提出{what}的期限（尚未送达相应意见书）")
        if today > window.due_on:
            raise DomainError(
                f"{what}期限已于{window.due_on:%Y年%m月%d日}届满"
                f"（{window.started_on:%Y年%m月%d日}送达，自送达之日起30日），不能再提出"
            )
        ev = _transition(
            case=case, by=by, action_code=code, text=reason, at=now, changes={"closed_at": None}
        )
        window.met_at = now
        window.save(update_fields=["met_at"])
        deadlines.deadline_open(case, decide_kind, today)
        return ev


def case_request_review(
    *, case: Case, by: Any, reason: str, at: dt.datetime | None = None
) -> CaseEvent:
    """复查申请 within 30 days of the reply being served. Guard: office desk staff; state
    已答复/已评价/已办结 with an open 复查 window not past its due date. Effect: window met;
    30-day 复查 decision deadline opened. Event: ``request_review``."""
    return _request_in_window(
        case, by, "request_review", K.REVIEW_REQUEST, K.REVIEW_DECIDE, reason, at
    )


def case_decide_review(
    *,
    case: Case,
    by: Any,
    text: str,
    at: dt.datetime | None = None,
    doc: dict[str, Any] | None = None,
) -> CaseEvent:
    """复查意见. Guard: office 办案员; state 复查申请中. Effect: decision deadline met; the
    30-day 复核 request window opens. Event: ``decide_review``."""
    text = _text(text, "text", "复查意见", min_len=10)
    with transaction.atomic():
        now = at or timezone.now()
        ev = _transition(
            case=case,
            by=by,
            action_code="decide_review",
            text=text,
            at=now,
            data={"doc": doc or _decision_doc(case, text, final=False)},
        )
        deadlines.deadlines_meet(case, {K.REVIEW_DECIDE}, now)
        deadlines.deadline_open(case, K.REREVIEW_REQUEST, deadlines.local_date(now))
        return ev


def _decision_doc(case: Case, text: str, *, final: bool) -> dict[str, Any]:
    """The 复查/复核意见书 body (``event.data["doc"]``) when only a text was given (the API)."""
    from xinfang.replies.boilerplate import review_doc

    return review_doc(case, final=final, facts="", basis="", decision=text)


def case_request_rereview(
    *, case: Case, by: Any, reason: str, at: dt.datetime | None = None
) -> CaseEvent:
    """复核申请 within 30 days of the 复查 opinion. Guard as ``case_request_review``.
    Event: ``request_rereview``."""
    return _request_in_window(
        case, by, "request_rereview", K.REREVIEW_REQUEST, K.REREVIEW_DECIDE, reason, at
    )


def case_decide_rereview(
    *,
    case: Case,
    by: Any,
    text: str,
    at: dt.datetime | None = None,
    doc: dict[str, Any] | None = None,
) -> CaseEvent:
    """复核意见 — the matter is final (终结): the same facts and reasons are not accepted again.
    Guard: office 办案员; state 复核申请中. Effect: decision deadline met; closed.
    Event: ``decide_rereview``."""
    text = _text(text, "text", "复核意见", min_len=10)
    with transaction.atomic():
        now = at or timezone.now()
        ev = _transition(
            case=case,
            by=by,
            action_code="decide_rereview",
            text=text,
            at=now,
            data={"doc": doc or _decision_doc(case, text, final=True)},
            changes={"closed_at": now},
        )
        deadlines.deadlines_meet(case, {K.REREVIEW_DECIDE}, now)
        return ev


def case_add_note(*, case: Case, by: Any, text: str, at: dt.datetime | None = None) -> CaseEvent:
    """A correction or remark: never an edit, always a new timeline row. Guard: the user can see
    the case and holds a post in its office or handling unit. Event: ``note``."""
    text = _text(text, "text", "备注内容")
    if not may_add_to_file(by, case):
        raise PermissionDenied("只有登记单位或承办单位的工作人员可以添加备注")
    return CaseEvent.objects.create(
        case=case,
        kind="note",
        actor=by,
        at=at or timezone.now(),
        text=text,
        from_status=case.status,
        to_status=case.status,
    )
