"""What the petitioner reads and does on the portal about one case (docs/portal.md "查询办理").

Selectors: ``public_timeline`` (the public part of the timeline, every kind in its own fixed
wording — never an internal note, a routing note, a staff name or the raw text of a staff
field not written for the petitioner), ``owed_deadlines``, the 评价 and 复查/复核 windows,
``case_view`` (everything the case page and the API show), ``printable`` (the opinion text of
one event), ``account_may_see``.

Services: ``portal_evaluate`` and ``portal_request_review`` — the same ``cases.services`` calls
the staff side makes, with the petitioner's ``PetitionerPrincipal`` as ``by``.

检举控告件 (``case.is_confidential``): only the number, the submitted date and the public
status; no timeline text, no unit names, no documents.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn

from django.conf import settings
from django.utils import timezone

from xinfang.cases import deadlines
from xinfang.cases import services as case_services
from xinfang.cases.models import (
    Case,
    CaseEvent,
    Deadline,
    DeadlineKind,
    Evaluation,
    EvaluationChannel,
    Status,
)
from xinfang.cases.transitions import ACTIONS, PUBLIC_EVENT_KINDS
from xinfang.core.errors import ConcurrentChange, DomainError, TransitionNotAllowed
from xinfang.core.text import clean_text
from xinfang.portal import services

K = DeadlineKind
COMMENT_MAX = 500
REASON_MIN, REASON_MAX = 4, 2000
CONFIDENTIAL_NOTE = "检举控告事项依法保密，本页仅显示办理状态，答复意见将依法送达"

# What the handling side owes the petitioner, per open obligation deadline.
OWED: dict[str, str] = {
    K.ROUTE: "应于{due}前转送、交办有权处理机关或者告知您",
    K.ACCEPT: "应于{due}前告知是否受理",
    K.HANDLE: "应于{due}前办结答复",
    K.REVIEW_DECIDE: "应于{due}前提出复查意见",
    K.REREVIEW_DECIDE: "应于{due}前提出复核意见",
}
# 复查/复核 request: the window (a Deadline row) and the action of each kind.
REQUESTS: dict[str, tuple[str, str, str]] = {
    "review": (K.REVIEW_REQUEST, "request_review", "复查"),
    "rereview": (K.REREVIEW_REQUEST, "request_rereview", "复核"),
}
# Events whose text is an opinion document (event.data["doc"]) the petitioner may print, and
# events whose issued 公文 (xinfang.documents, when one was issued) may be printed.
DOC_EVENTS = {"reply": "答复意见书", "decide_review": "复查意见书", "decide_rereview": "复核意见书"}
ISSUED_EVENTS = {"accept": "受理告知书", "refuse": "不予受理告知书", "inform": "告知单"}


def cn_date(day: dt.date | None) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else ""


def today() -> dt.date:
    return deadlines.local_date(timezone.now())


# --- who may see a case -------------------------------------------------------------------


def account_may_see(account: Any, case: Case) -> bool:
    """The logged-in citizen account owns ``case`` (``portal.accounts.account_may_see``)."""
    from xinfang.portal.accounts import account_may_see as owns

    return account is not None and bool(owns(account, case))


def viewable_case(request: Any, case_id: int) -> Case | None:
    """The case when this browser proved access to it (query code) or its logged-in account
    owns it; None otherwise — the same None for a case that does not exist."""
    case = Case.objects.select_related("handling_unit", "merged_into").filter(pk=case_id).first()
    if case is None:
        return None
    if services.granted(request, case.pk):
        return case
    account = services.current_account(request)
    return case if account is not None and account_may_see(account, case) else None


# --- the public timeline ------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    at: dt.datetime
    kind: str
    title: str
    text: str = ""
    doc_event_id: int | None = None  # a printable page (portal:case_document) exists
    doc_label: str = ""


def _unit(ev: CaseEvent) -> str:
    name = str((ev.data or {}).get("unit") or "").strip()
    if not name and (ev.data or {}).get("unit_id"):
        from xinfang.org.models import Unit

        row = Unit.objects.filter(pk=ev.data["unit_id"]).values_list("name", flat=True).first()
        name = row or ""
    return name or "有权处理机关"


def _organ_lines(organ: Any) -> list[str]:
    """The 办事指南 snapshot of the ``inform`` event: the public fields only."""
    if not isinstance(organ, dict) or not organ.get("name"):
        return []
    lines = [f"有权处理机关：{organ['name']}"]
    for key, label in (("address", "地址"), ("phone", "电话"), ("hours", "办公时间")):
        value = str(organ.get(key) or "").strip()
        if value:
            lines.append(f"{label}：{value}")
    remedy = str(organ.get("remedy") or "").strip()
    if remedy:
        lines.append(remedy)
    return lines


def doc_text(ev: CaseEvent) -> str:
    """The plain text of the opinion document of a reply/复查/复核 event."""
    from xinfang.replies.boilerplate import compose_text

    doc = (ev.data or {}).get("doc")
    text = compose_text(doc) if isinstance(doc, dict) and doc else ""
    return text or ev.text


def _message_text(ev: CaseEvent) -> str:
    """What was sent to the petitioner: the message body (portal copy first), else the
    event's text (which is the text sent)."""
    from xinfang.notify.models import OutboundMessage

    bodies = dict(
        OutboundMessage.objects.filter(event=ev).order_by("id").values_list("channel", "body")
    )
    return bodies.get("portal") or next(iter(bodies.values()), "") or ev.text


def _issued(ev: CaseEvent) -> bool:
    from xinfang.documents.models import IssuedDocument

    return IssuedDocument.objects.filter(event_id=ev.pk).exists()


def _entry(case: Case, ev: CaseEvent, cancelled_hearings: set[Any]) -> Entry | None:
    kind, data = ev.kind, (ev.data or {})

    def e(title: str, text: str = "", doc: bool = False) -> Entry:
        label = DOC_EVENTS.get(kind) or ISSUED_EVENTS.get(kind, "")
        return Entry(ev.at, kind, title, text, ev.pk if doc else None, label if doc else "")

    if kind == "register":
        return e(f"信访事项已登记（编号{case.number}）")
    if kind in ("assign", "forward"):
        verb = "交办" if kind == "assign" else "转送"
        return e(f"已{verb}至「{_unit(ev)}」办理")
    if kind == "transfer":
        return e(f"已改由「{_unit(ev)}」办理")
    if kind == "inform":
        text = "\n".join([ev.text, *_organ_lines(data.get("organ"))]).strip()
        return e("已告知（不予受理）", text, _issued(ev))
    if kind == "accept":
        return e("已受理", ev.text, _issued(ev))
    if kind == "refuse":
        return e("不予受理", ev.text, _issued(ev))
    if kind == "reply":
        return e("已答复", doc_text(ev), True)
    if kind == "evaluate":
        label = (
            Evaluation(data["evaluation"]).label
            if data.get("evaluation") in Evaluation.values
            else ""
        )
        own = ev.text if data.get("by_petitioner") else ""  # staff-recorded remarks stay internal
        channel = data.get("channel")
        how = EvaluationChannel(channel).label if channel in EvaluationChannel.values else ""
        return e(f"您的评价：{label}" + (f"（{how}）" if how else ""), own)
    if kind == "close":
        return e("已办结")
    if kind == "request_review":
        return e("已收到您的复查请求")
    if kind == "request_rereview":
        return e("已收到您的复核请求")
    if kind == "decide_review":
        return e("已提出复查意见", doc_text(ev), True)
    if kind == "decide_rereview":
        return e("已提出复核意见（终结）", doc_text(ev), True)
    if kind in ("progress_notice", "extension_notice", "petitioner_message"):
        titles = {"progress_notice": "进展告知", "extension_notice": "延期告知"}
        return e(titles.get(kind, "告知"), _message_text(ev))
    if kind == "followup_done":
        return e("已回访")
    if kind == "hearing_schedule":
        return e("已安排听证", _hearing_text(data, cancelled_hearings))
    if kind == "hearing_record":
        return e("听证已举行")
    return None


def _hearing_text(data: dict[str, Any], cancelled: set[Any]) -> str:
    parts = []
    try:
        when = timezone.localtime(dt.datetime.fromisoformat(str(data.get("scheduled_at"))))
        parts.append(f"时间：{when.year}年{when.month}月{when.day}日 {when:%H:%M}")
    except (TypeError, ValueError):
        pass
    if str(data.get("place") or "").strip():
        parts.append(f"地点：{str(data['place']).strip()}")
    if data.get("hearing_id") in cancelled:
        parts.append("该次听证已取消")
    return "\n".join(parts)


def public_timeline(case: Case) -> list[Entry]:
    """The petitioner's view of the timeline, oldest first. Only ``PUBLIC_EVENT_KINDS`` that
    have a public wording here are shown; a 检举控告件 shows none."""
    if case.is_confidential:
        return []
    rows = list(case.events.filter(kind__in=PUBLIC_EVENT_KINDS | {"hearing_cancel"}))
    cancelled = {ev.data.get("hearing_id") for ev in rows if ev.kind == "hearing_cancel"}
    out = [_entry(case, ev, cancelled) for ev in rows if ev.kind != "hearing_cancel"]
    return [entry for entry in out if entry is not None]


# --- deadlines and windows ----------------------------------------------------------------


def owed_deadlines(case: Case) -> list[str]:
    """The open legal time limits the office or unit owes the petitioner, as sentences."""
    if case.is_confidential:
        return []
    rows = Deadline.objects.filter(
        deadlines.unmet_filter(), case=case, kind__in=list(OWED)
    ).order_by("due_on", "id")
    return [OWED[row.kind].format(due=cn_date(row.due_on)) for row in rows]


def evaluation_until(case: Case) -> dt.date | None:
    """The last day of the portal's 评价 window: the served date (or the reply's date) plus
    ``XINFANG_PORTAL_EVALUATION_DAYS``; None when the case has no reply to evaluate."""
    if case.status != Status.REPLIED:
        return None
    served = case.served_at
    if served is None:
        at = case.events.filter(kind="reply").order_by("-at").values_list("at", flat=True).first()
        if at is None:
            return None
        served = deadlines.local_date(at)
    return served + dt.timedelta(days=settings.XINFANG_PORTAL_EVALUATION_DAYS)


def can_evaluate(case: Case, on: dt.date | None = None) -> bool:
    until = evaluation_until(case)
    return until is not None and (on or today()) <= until


def request_until(case: Case, kind: str, on: dt.date | None = None) -> dt.date | None:
    """The last day to request 复查 (``kind="review"``) or 复核 (``"rereview"``) when that is
    possible now (state allows, window open and not past); None otherwise."""
    window_kind, action, _ = REQUESTS[kind]
    if case.status not in ACTIONS[action].from_states:
        return None
    window = deadlines.open_window(case, window_kind)
    if window is None or (on or today()) > window.due_on:
        return None
    return window.due_on


# --- the whole view -----------------------------------------------------------------------


@dataclass
class CaseView:
    case: Case
    number: str
    received_on: dt.date
    status_label: str
    confidential: bool
    unit_name: str
    owed: list[str]
    timeline: list[Entry]
    evaluate_until: dt.date | None
    review_until: dt.date | None
    rereview_until: dt.date | None
    merged_into_number: str = ""
    merged_into_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def can_evaluate(self) -> bool:
        return self.evaluate_until is not None and today() <= self.evaluate_until

    @property
    def request_kind(self) -> str:
        """The request offered now ("review", "rereview" or "")."""
        return "review" if self.review_until else ("rereview" if self.rereview_until else "")

    @property
    def request_until(self) -> dt.date | None:
        return self.review_until or self.rereview_until


def case_view(case: Case) -> CaseView:
    confidential = case.is_confidential
    merged = case.merged_into if case.status == Status.MERGED else None
    until = evaluation_until(case)
    return CaseView(
        case=case,
        number=case.number,
        received_on=deadlines.local_date(case.received_at),
        status_label=services.public_status(case),
        confidential=confidential,
        unit_name="" if confidential or case.handling_unit is None else case.handling_unit.name,
        owed=owed_deadlines(case),
        timeline=public_timeline(case),
        evaluate_until=until if until is not None and today() <= until else None,
        review_until=request_until(case, "review"),
        rereview_until=request_until(case, "rereview"),
        merged_into_number=merged.number if merged is not None else "",
        merged_into_id=merged.pk if merged is not None else None,
    )


@dataclass(frozen=True)
class Printable:
    title: str
    text: str
    number: str = ""  # 发文字号 of an issued 公文


def printable(case: Case, event_id: int) -> Printable | None:
    """The text of the opinion (答复/复查/复核意见书) or issued notice (受理/不予受理告知书,
    告知单) of one event of ``case``; None for anything else and for every 检举控告件."""
    if case.is_confidential:
        return None
    ev = case.events.filter(pk=event_id, kind__in=list(DOC_EVENTS) + list(ISSUED_EVENTS)).first()
    if ev is None:
        return None
    if ev.kind in DOC_EVENTS:
        return Printable(DOC_EVENTS[ev.kind], doc_text(ev))
    from xinfang.documents.models import IssuedDocument

    issued = IssuedDocument.objects.filter(event_id=ev.pk).first()
    if issued is None:
        return None
    body = issued.body or {}
    # The body's 附注 may name a contact person of the unit: not shown (no staff names).
    lines = [str(body.get("to") or "")]
    for p in body.get("paragraphs") or []:
        lines += [str(p.get("heading") or ""), str(p.get("text") or "")]
    lines += [str(body.get("closing") or ""), str(body.get("seal") or ""), body.get("date") or ""]
    text = "\n".join(line for line in lines if line)
    return Printable(str(body.get("title") or ISSUED_EVENTS[ev.kind]), text, issued.number)


# --- the petitioner's acts ----------------------------------------------------------------


def _already(case: Case, exc: DomainError, done: Callable[[Case], bool], message: str) -> NoReturn:
    """After a lost race or a repeated submit: the friendly message when the other request
    did the same thing; the service's own (Chinese) message otherwise."""
    current = Case.objects.get(pk=case.pk)
    if done(current):
        raise DomainError(message, field=exc.field) from exc
    raise exc


def portal_evaluate(
    case: Case, evaluation: str, comment: str, account: Any = None, *, on: dt.date | None = None
) -> CaseEvent:
    """满意度评价 by the petitioner on the portal. Guard: state 已答复 and today within
    ``XINFANG_PORTAL_EVALUATION_DAYS`` of the served date; comment ≤ 500 characters.
    Effect: ``cases.services.case_evaluate`` (channel 网上评价; 不满意 → the office's task).
    A repeated submit gets "已评价", never a server error."""
    comment = clean_text(comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise DomainError(
            f"评价意见不能超过{COMMENT_MAX}字（现有{len(comment)}字）", field="comment"
        )
    done_msg = "您已评价过该答复（已评价），不能重复评价"
    if case.status == Status.EVALUATED or case.evaluation:
        raise DomainError(done_msg, field="evaluation")
    until = evaluation_until(case)
    if until is None:
        raise DomainError(
            f"该事项当前为「{services.public_status(case)}」，答复送达后才能评价",
            field="evaluation",
        )
    if (on or today()) > until:
        raise DomainError(
            f"网上评价期限已于{cn_date(until)}届满（答复送达之日起"
            f"{settings.XINFANG_PORTAL_EVALUATION_DAYS}日内），不能再评价",
            field="evaluation",
        )
    try:
        return case_services.case_evaluate(
            case=case,
            by=services.principal(case, account),
            evaluation=evaluation,
            comment=comment,
            channel=EvaluationChannel.PORTAL,
        )
    except (ConcurrentChange, TransitionNotAllowed) as exc:
        _already(case, exc, lambda c: bool(c.evaluation), done_msg)


def portal_request_review(case: Case, kind: str, reason: str, account: Any = None) -> CaseEvent:
    """复查 (``kind="review"``) or 复核 (``"rereview"``) request by the petitioner. Guard: reason
    4–2000 characters; the services check the state and the 30-day window. Effect:
    ``case_request_review`` / ``case_request_rereview`` with the petitioner as ``by``."""
    if kind not in REQUESTS:
        raise DomainError("请选择请求复查或复核", field="kind")
    what = REQUESTS[kind][2]
    reason = clean_text(reason or "").strip()
    if len(reason) < REASON_MIN:
        raise DomainError(f"请填写{what}请求的理由（至少{REASON_MIN}个字）", field="reason")
    if len(reason) > REASON_MAX:
        raise DomainError(f"理由不能超过{REASON_MAX}字（现有{len(reason)}字）", field="reason")
    service = (
        case_services.case_request_review
        if kind == "review"
        else case_services.case_request_rereview
    )
    by = services.principal(case, account)
    try:
        return service(case=case, by=by, reason=reason)
    except (ConcurrentChange, TransitionNotAllowed) as exc:
        asked = Status.REVIEW_REQUESTED if kind == "review" else Status.REREVIEW_REQUESTED
        _already(case, exc, lambda c: c.status == asked, f"已收到您的{what}请求，不必重复提交")
