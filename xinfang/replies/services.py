"""答复意见书 workflow: one function per state change.

draft ─submit→ submitted ─approve (单位负责人)→ approved ─check (信访机构办案员)→ checked
  ─serve (承办单位)→ served (``cases.services.case_reply``: the reply event carries
  ``draft_id`` and ``doc``). A head rejects a submitted draft, the office an approved one:
  back to draft with the reason. Each change is a conditional UPDATE on the draft's state (of
  two heads approving at once one wins, the other gets ``ConcurrentChange``) and a CaseEvent.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from xinfang.cases.models import Case, CaseEvent, Status
from xinfang.core.errors import ConcurrentChange, DomainError, PermissionDenied
from xinfang.core.text import clean_text
from xinfang.org import roles as R
from xinfang.org.policy import holds_role_over
from xinfang.replies import boilerplate as B
from xinfang.replies.models import LIVE_STATES, DraftState, ReplyDraft

D = DraftState
UNIT = frozenset({R.HANDLER, R.UNIT_HEAD})
HEAD = frozenset({R.UNIT_HEAD})
OFFICE = frozenset({R.CASE_OFFICER})


def live_draft(case: Case) -> ReplyDraft | None:
    return case.reply_drafts.filter(state__in=LIVE_STATES).first()


def served_draft(case: Case) -> ReplyDraft | None:
    return case.reply_drafts.filter(state=D.SERVED).order_by("-id").first()


def may_draft(user: Any, case: Case) -> bool:
    return case.status == Status.ACCEPTED and holds_role_over(user, case.handling_unit, UNIT)


def _need(user: Any, case: Case, *, office: bool, roles: frozenset[str], what: str) -> None:
    unit = case.office_unit if office else case.handling_unit
    if not holds_role_over(user, unit, roles):
        side = (
            "登记单位（信访机构）的办案员"
            if office
            else ("承办单位的单位负责人" if roles == HEAD else "承办单位的承办人或单位负责人")
        )
        raise PermissionDenied(f"您没有权限{what}：需要{side}岗位")
    if case.status != Status.ACCEPTED:
        raise DomainError(f"当前状态为「{case.get_status_display()}」，只有已受理的事项才能{what}")


def _part(value: str, field: str, *, label: str, min_len: int = B.MIN_PART) -> str:
    value = clean_text(value or "").strip()
    if len(value) < min_len:
        raise DomainError(f"答复意见书缺少「{label}」（至少{min_len}个字）", field=field)
    return value


def _event(draft: ReplyDraft, kind: str, by: Any, now: dt.datetime, text: str = "") -> CaseEvent:
    case = draft.case
    office_side = kind == "reply_check" or (kind == "reply_reject" and draft.state == D.APPROVED)
    return CaseEvent.objects.create(
        case=case,
        kind=kind,
        actor=by,
        actor_unit=case.office_unit if office_side else case.handling_unit,
        at=now,
        from_status=case.status,
        to_status=case.status,
        text=text,
        data={"draft_id": draft.pk},
    )


def _move(draft: ReplyDraft, frm: str, to: str, what: str, **fields: Any) -> None:
    won = ReplyDraft.objects.filter(pk=draft.pk, state=frm).update(state=to, **fields)
    if not won:
        current = ReplyDraft.objects.filter(pk=draft.pk).first()
        now_label = current.get_state_display() if current else "已删除"
        raise ConcurrentChange(
            f"该答复意见书刚被他人处理（当前：{now_label}），「{what}」未执行，请刷新后查看"
        )
    draft.state = to
    for key, value in fields.items():
        setattr(draft, key, value)


def new_draft_values(case: Case) -> dict[str, Any]:
    """What a new draft starts with: the template of the case's purpose, the title, the default
    复查机关 (the placeholders are shown as hints, not stored as text)."""
    tpl = B.template_for(case.purpose)
    return {
        "template": tpl.code,
        "title": tpl.title.format(name=B.title_name(case)),
        "facts": "",
        "basis": "",
        "decision": "",
        "extra": "",
        "review_organ": B.default_review_organ(case.handling_unit),
    }


def draft_save(
    *,
    case: Case,
    by: Any,
    facts: str,
    basis: str,
    decision: str,
    review_organ: str,
    extra: str = "",
    title: str = "",
    at: dt.datetime | None = None,
) -> ReplyDraft:
    """起草/修改 the 答复意见书. Guard: 承办人/单位负责人 of the handling unit; case 已受理; the
    draft (if any) is being drafted (not submitted). Every mandatory part (查明的事实, 处理依据,
    处理意见, at least 10 characters) and the 复查机关 are required. Event: ``reply_draft``."""
    _need(by, case, office=False, roles=UNIT, what="起草答复意见书")
    values = {
        "facts": _part(facts, "facts", label="查明的事实"),
        "basis": _part(basis, "basis", label="处理依据"),
        "decision": _part(decision, "decision", label="处理意见"),
        "review_organ": _part(review_organ, "review_organ", label="复查机关", min_len=2),
        "extra": clean_text(extra or "").strip(),
    }
    if len(values["review_organ"]) > 100:
        raise DomainError("复查机关名称过长（最多100字）", field="review_organ")
    title = clean_text(title or "").strip()
    if len(title) > 200:
        raise DomainError("标题过长（最多200字）", field="title")
    now = at or timezone.now()
    with transaction.atomic():
        draft = live_draft(case)
        if draft is None:
            start = new_draft_values(case)
            try:
                with transaction.atomic():
                    draft = ReplyDraft.objects.create(
                        case=case,
                        template=start["template"],
                        title=title or start["title"],
                        drafted_by=by,
                        drafted_at=now,
                        **values,
                    )
            except IntegrityError as exc:
                raise ConcurrentChange("该事项刚刚已有人起草答复意见书，请刷新后查看") from exc
        elif _stale(draft, case):
            # Another unit's draft: overwritten, its approval and check void.
            _move(
                draft, draft.state, D.DRAFT, "保存", title=title or new_draft_values(case)["title"],
                drafted_by=by, drafted_at=now, submitted_by=None, submitted_at=None,
                approved_by=None, approved_at=None, checked_by=None, checked_at=None, **values,
            )  # fmt: skip
        else:
            if draft.state != D.DRAFT:
                raise DomainError(
                    f"答复意见书{draft.get_state_display()}，不能修改；需修改时请审批人或审核人退回"
                )
            _move(
                draft, D.DRAFT, D.DRAFT, "保存", title=title or draft.title,
                drafted_by=by, drafted_at=now, **values,
            )  # fmt: skip
        _event(draft, "reply_draft", by, now, f"起草答复意见书：{draft.title}")
        return draft


def _stale(draft: ReplyDraft, case: Case) -> bool:
    """Drafted by another unit: the case has changed hands since (转办, 退回后重新交办, 回避
    收回). Its approval and check were for that unit; the current one redrafts it."""
    return draft.drafted_by_id is not None and not holds_role_over(
        draft.drafted_by, case.handling_unit, UNIT
    )


STALE = "该答复意见书由原承办单位起草，事项已改由本单位办理，请重新起草（保存即覆盖原稿）"


def _draft_in(case: Case, state: str, what: str) -> ReplyDraft:
    draft = live_draft(case)
    if draft is None:
        raise DomainError(f"该事项还没有答复意见书，不能{what}")
    if _stale(draft, case):
        raise DomainError(STALE)
    if draft.state != state:
        raise DomainError(f"答复意见书当前为「{draft.get_state_display()}」，不能{what}")
    return draft


def draft_submit(*, case: Case, by: Any, at: dt.datetime | None = None) -> ReplyDraft:
    """提交审批. Guard: handling unit staff; draft being drafted. Event: ``reply_submit``."""
    _need(by, case, office=False, roles=UNIT, what="提交答复意见书")
    now = at or timezone.now()
    with transaction.atomic():
        draft = _draft_in(case, D.DRAFT, "提交审批")
        _move(draft, D.DRAFT, D.SUBMITTED, "提交审批", submitted_by=by, submitted_at=now)
        _event(draft, "reply_submit", by, now, "答复意见书提交单位负责人审批")
        return draft


def draft_approve(*, case: Case, by: Any, at: dt.datetime | None = None) -> ReplyDraft:
    """审批 by the 单位负责人 of the handling unit; submitted → approved. Of two heads
    approving at once one wins, the other gets ``ConcurrentChange``. Event: ``reply_approve``."""
    _need(by, case, office=False, roles=HEAD, what="审批答复意见书")
    now = at or timezone.now()
    with transaction.atomic():
        draft = _draft_in(case, D.SUBMITTED, "审批")
        _move(draft, D.SUBMITTED, D.APPROVED, "审批", approved_by=by, approved_at=now)
        _event(draft, "reply_approve", by, now, "单位负责人审批同意，报信访机构审核")
        return draft


def draft_check(*, case: Case, by: Any, at: dt.datetime | None = None) -> ReplyDraft:
    """审核 by an 办案员 of the registering petition office; approved → checked (may be served).
    Event: ``reply_check``."""
    _need(by, case, office=True, roles=OFFICE, what="审核答复意见书")
    now = at or timezone.now()
    with transaction.atomic():
        draft = _draft_in(case, D.APPROVED, "审核")
        _move(draft, D.APPROVED, D.CHECKED, "审核", checked_by=by, checked_at=now)
        _event(draft, "reply_check", by, now, "信访机构审核通过，可以送达")
        return draft


def draft_reject(*, case: Case, by: Any, reason: str, at: dt.datetime | None = None) -> ReplyDraft:
    """退回修改 with a reason: the 单位负责人 a submitted draft, the office's 办案员 an approved
    one. The draft goes back to being drafted. Event: ``reply_reject``."""
    reason = clean_text(reason or "").strip()
    if len(reason) < 4:
        raise DomainError("请填写退回理由（至少4个字）", field="reason")
    draft = live_draft(case)
    if draft is None:
        raise DomainError("该事项还没有答复意见书，不能退回")
    if draft.state == D.SUBMITTED:
        _need(by, case, office=False, roles=HEAD, what="退回答复意见书")
    elif draft.state == D.APPROVED:
        _need(by, case, office=True, roles=OFFICE, what="退回答复意见书")
    else:
        raise DomainError(f"答复意见书当前为「{draft.get_state_display()}」，不能退回")
    now = at or timezone.now()
    with transaction.atomic():
        frm = draft.state
        _event(draft, "reply_reject", by, now, f"退回修改：{reason}")
        _move(
            draft, frm, D.DRAFT, "退回", rejected_by=by, rejected_at=now, reject_note=reason,
            approved_by=None, approved_at=None,
        )  # fmt: skip
        return draft


def draft_serve(
    *, case: Case, by: Any, served_on: dt.date, method: str, at: dt.datetime | None = None
) -> CaseEvent:
    """送达 the checked 答复意见书: calls ``cases.services.case_reply`` with the composed text;
    the reply event's data carries ``draft_id`` and ``doc``. Guard: handling unit staff; the
    draft checked by the office. Event: ``reply``."""
    from xinfang.cases.services import case_reply

    _need(by, case, office=False, roles=UNIT, what="送达答复意见书")
    now = at or timezone.now()
    with transaction.atomic():
        draft = _draft_in(case, D.CHECKED, "送达（须先经单位负责人审批、信访机构审核）")
        doc = B.reply_doc(draft)
        ev = case_reply(
            case=case,
            by=by,
            text=B.compose_text(doc),
            served_on=served_on,
            method=method,
            at=now,
            draft=draft,
            doc=doc,
        )
        return ev


def mark_served(
    draft: ReplyDraft, *, by: Any, served_on: dt.date, method: str, at: dt.datetime
) -> None:
    """checked → served; called by ``cases.services.case_reply`` inside its transaction."""
    _move(
        draft, D.CHECKED, D.SERVED, "送达",
        served_by=by, served_at=at, served_on=served_on, method=method,
    )  # fmt: skip


def _review_parts(facts: str, basis: str, decision: str) -> tuple[str, str, str]:
    return (
        _part(facts, "facts", label="查明的事实"),
        _part(basis, "basis", label="依据"),
        _part(decision, "decision", label="意见"),
    )


def review_decide(
    *, case: Case, by: Any, facts: str, basis: str, decision: str, at: dt.datetime | None = None
) -> CaseEvent:
    """复查意见书 from its parts (查明的事实, 依据, 意见): ``case_decide_review`` with the
    composed text and ``doc`` (organ = the deciding office; tells the 30-day 复核 window)."""
    from xinfang.cases.services import case_decide_review

    facts, basis, decision = _review_parts(facts, basis, decision)
    doc = B.review_doc(case, final=False, facts=facts, basis=basis, decision=decision)
    return case_decide_review(case=case, by=by, text=B.compose_text(doc), at=at, doc=doc)


def rereview_decide(
    *, case: Case, by: Any, facts: str, basis: str, decision: str, at: dt.datetime | None = None
) -> CaseEvent:
    """复核意见书 (终结) from its parts: ``case_decide_rereview`` with the composed text and
    ``doc``, which states that the matter is final."""
    from xinfang.cases.services import case_decide_rereview

    facts, basis, decision = _review_parts(facts, basis, decision)
    doc = B.review_doc(case, final=True, facts=facts, basis=basis, decision=decision)
    return case_decide_rereview(case=case, by=by, text=B.compose_text(doc), at=at, doc=doc)


def record_checked_draft(
    case: Case,
    *,
    decision: str,
    at: dt.datetime | None = None,
    drafted_by: Any = None,
    approved_by: Any = None,
    checked_by: Any = None,
    facts: str = "",
    basis: str = "",
) -> ReplyDraft:
    """A draft already approved and checked, written directly without the step events: for the
    demo loaders and imports of replies made outside the system (then served through
    ``cases.services.case_reply(draft=…)``). Not a workflow step: no guard, no events.
    A checked draft still waiting to be served (an earlier serve was refused) is reused: a
    case has one live draft at most."""
    now = at or timezone.now()
    waiting = live_draft(case)
    if waiting is not None and waiting.state == D.CHECKED:
        return waiting
    start = new_draft_values(case)
    return ReplyDraft.objects.create(
        case=case,
        state=D.CHECKED,
        template=start["template"],
        title=start["title"],
        facts=facts or "经调查核实，情况见处理意见。",
        basis=basis or "《信访工作条例》及有关法律法规、政策规定。",
        decision=decision,
        review_organ=start["review_organ"] or "上一级行政机关",
        drafted_by=drafted_by,
        drafted_at=now,
        approved_by=approved_by,
        approved_at=now,
        checked_by=checked_by,
        checked_at=now,
    )
