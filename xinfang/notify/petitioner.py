"""Messages to petitioners (进展告知、延期告知 …): every message is an ``OutboundMessage`` row
per petitioner and channel plus one timeline event, sent after the commit through the
configured backend (``notify.backends``).

- :func:`send_to_petitioner` — the entry point other features call (one channel).
- :func:`case_progress_notice` — 进展告知 before the formal reply (handling unit or office staff).
- :func:`send_extension_notice` — called by ``cases.services.case_decide_extension`` when an
  extension is approved: the reason, the days and the new 办结 due date, through the portal and,
  when the principal has a phone, by SMS.

Recipients are the case's 信访人 (principal parties; the first party when none is marked).
检举控告件: the message names the case by number only; staff-typed text that repeats the
accusation (summary, accused), the accuser's name, ID number or phone is refused.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from xinfang.cases.models import Case, CaseEvent, CasePetitioner, PetitionerRole, Status
from xinfang.core.errors import DomainError, PermissionDenied
from xinfang.core.text import clean_text
from xinfang.notify.backends import get_backend
from xinfang.notify.models import MessageChannel, OutboundMessage
from xinfang.org import roles as R
from xinfang.org.policy import holds_role_over

log = logging.getLogger(__name__)

CHANNELS = {c.value for c in MessageChannel}
MAX_TEXT = 1000

# States in which a 进展告知 makes sense: handed to a unit and not yet answered, or a 复查/复核
# request being examined.
PROGRESS_STATES = frozenset(
    {
        Status.ASSIGNED,
        Status.FORWARDED,
        Status.SIGNED,
        Status.ACCEPTED,
        Status.REVIEW_REQUESTED,
        Status.REREVIEW_REQUESTED,
    }
)

# Stock openings the form offers (the clerk picks one and may add a sentence).
STOCK_OPENINGS: list[tuple[str, str]] = [
    ("received", "您反映的事项已转交承办单位，目前正在办理中。"),
    ("investigating", "承办单位正在调查核实有关情况，我们将在法定期限内书面答复您。"),
    ("coordinating", "您反映的问题涉及多个部门，目前正在协调处理，请耐心等待。"),
    ("materials", "承办单位可能需要您补充有关材料，工作人员将与您联系，请保持电话畅通。"),
    ("review", "您的复查（复核）申请已收到，正在审查中，我们将在法定期限内作出意见。"),
]
OPENING_TEXT = dict(STOCK_OPENINGS)

# Why a channel cannot reach the petitioner (what is missing on the person).
UNREACHABLE: dict[str, str] = {
    "sms": "信访人未登记联系电话，不能发送短信，请选择其他渠道",
    "letter": "信访人未登记住址，不能寄送信函，请选择其他渠道",
    "email": "信访人信息中没有电子邮箱，请选择网上信访平台、短信或信函",
}


def _principals(case: Case) -> list[Any]:
    links = list(CasePetitioner.objects.filter(case=case).select_related("petitioner"))
    chosen = [link for link in links if link.role == PetitionerRole.PRINCIPAL] or links[:1]
    return [link.petitioner for link in chosen]


def _greeting(case: Case) -> str:
    return f"您好！关于您的信访事项（编号{case.number}）："


GRAM = 4  # a run of this many characters shared with the accusation counts as repeating it


def _grams(text: str) -> set[str]:
    chars = "".join(ch for ch in text if ch.isalnum())
    return {chars[i : i + GRAM] for i in range(len(chars) - GRAM + 1)}


# Runs every notice may contain (the openings, the greeting): never a leak by themselves.
_SAFE_GRAMS = set().union(
    *(_grams(t) for _, t in STOCK_OPENINGS), _grams("您好关于您的信访事项编号")
)


def confidential_leak(case: Case, text: str) -> str | None:
    """For a 检举控告件: what in ``text`` must not be sent (the accusation's words, the accused,
    the accuser's name/ID/phone), as a Chinese message; None when clean or not confidential."""
    if not case.is_confidential:
        return None
    compact = "".join(ch for ch in text if ch.isalnum())
    sent = _grams(text)
    accused = [case.accused_text] + [u.get_full_name() for u in case.accused_persons.all()]
    accused += [u.name for u in case.accused_units.all()]
    for name in accused:
        for line in (name or "").splitlines():
            line = "".join(ch for ch in line if ch.isalnum())
            if len(line) >= 2 and (line in compact or (_grams(line) & sent) - _SAFE_GRAMS):
                return "检举控告件的告知内容不得包含被检举控告对象"
    if (_grams(case.summary) | _grams(case.content)) & sent - _SAFE_GRAMS:
        return "检举控告件的告知内容不得包含检举控告的内容"
    for person in case.petitioners.all():
        if len(person.name) >= 2 and person.name in compact:
            return "检举控告件的告知内容不得包含信访人姓名"
        for secret in (person.phone, person.id_number or ""):
            if secret and secret in compact:
                return "检举控告件的告知内容不得包含信访人的证件号码或电话"
    return None


def _actor_unit(by: Any, case: Case) -> Any:
    if holds_role_over(by, case.handling_unit, R.UNIT_STAFF):
        return case.handling_unit
    return case.office_unit


def _dispatch(ids: list[int]) -> None:
    """After the commit: hand each queued message to the backend, record sent/failed."""
    backend = get_backend()
    for message in (
        OutboundMessage.objects.filter(pk__in=ids, status=OutboundMessage.State.QUEUED)
        .select_related("petitioner")
        .order_by("id")
    ):
        now = timezone.now()
        try:
            backend.send(message)
        except Exception as exc:
            log.exception("message %s to petitioner failed", message.pk)
            OutboundMessage.objects.filter(pk=message.pk).update(
                status=OutboundMessage.State.FAILED, backend=backend.name, error=str(exc)[:300]
            )
        else:
            OutboundMessage.objects.filter(
                pk=message.pk, status=OutboundMessage.State.QUEUED
            ).update(status=OutboundMessage.State.SENT, backend=backend.name, sent_at=now)


def _send(
    *,
    case: Case,
    by: Any,
    channels: Iterable[str],
    text: str,
    kind: str,
    at: dt.datetime | None,
    data: dict[str, Any] | None,
    event_text: str = "",
) -> CaseEvent:
    channels = list(dict.fromkeys(channels))
    for channel in channels:
        if channel not in CHANNELS:
            raise DomainError("请选择发送渠道：网上信访平台、短信、信函或电子邮件", field="channel")
    text = clean_text(text or "").strip()
    if len(text) < 4:
        raise DomainError("请填写告知内容（至少4个字）", field="text")
    if len(text) > MAX_TEXT:
        raise DomainError(f"告知内容不能超过{MAX_TEXT}字", field="text")
    leak = confidential_leak(case, text)
    if leak:
        raise DomainError(leak, field="text")
    people = _principals(case)
    if not people:
        raise DomainError("该事项没有登记信访人，无法发送", field="channel")
    targets: list[tuple[Any, str]] = []
    for channel in channels:
        for person in people:
            if channel == MessageChannel.SMS and not person.phone:
                continue
            if channel == MessageChannel.LETTER and not person.address:
                continue
            if channel == MessageChannel.EMAIL:
                continue  # no e-mail address is recorded for petitioners
            targets.append((person, channel))
        if not any(c == channel for _, c in targets):
            raise DomainError(UNREACHABLE.get(channel, "无法通过所选渠道发送"), field="channel")
    body = _greeting(case) + text
    now = at or timezone.now()
    with transaction.atomic():
        messages = OutboundMessage.objects.bulk_create(
            [
                OutboundMessage(
                    case=case,
                    petitioner=person,
                    channel=channel,
                    kind=kind,
                    body=body,
                    created_by=by,
                    created_at=now,
                )
                for person, channel in targets
            ]
        )
        ids = [m.pk for m in messages]
        if None in ids:  # backends without RETURNING on bulk insert
            ids = list(
                OutboundMessage.objects.filter(case=case, kind=kind, created_at=now).values_list(
                    "pk", flat=True
                )
            )
        event_data = {
            "channel": channels[0] if len(channels) == 1 else "+".join(channels),
            "channels": channels,
            "message_ids": ids,
        } | dict(data or {})
        ev = CaseEvent.objects.create(
            case=case,
            kind=kind,
            actor=by,
            actor_unit=_actor_unit(by, case) if by is not None else None,
            at=now,
            from_status=case.status,
            to_status=case.status,
            text=event_text or text,
            data=event_data,
        )
        OutboundMessage.objects.filter(pk__in=ids).update(event=ev)
        transaction.on_commit(lambda: _dispatch(ids))
    return ev


def send_to_petitioner(
    *,
    case: Case,
    by: Any,
    channel: str,
    text: str,
    kind: str = "petitioner_message",
    at: dt.datetime | None = None,
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    """Send ``text`` to the case's petitioner(s) on ``channel`` (portal/sms/letter/email):
    ``OutboundMessage`` rows (sent after the commit by the configured backend) and one
    ``kind`` event (data: channel, message_ids and ``data``). No permission check: the caller's
    own service has checked who may act."""
    return _send(case=case, by=by, channels=[channel], text=text, kind=kind, at=at, data=data)


# --- 进展告知 ----------------------------------------------------------------------------------


def may_send_progress(user: Any, case: Case) -> bool:
    return case.status in PROGRESS_STATES and (
        holds_role_over(user, case.handling_unit, R.UNIT_STAFF)
        or holds_role_over(user, case.office_unit, R.OFFICE_STAFF)
    )


def progress_text(opening: str, text: str) -> str:
    parts = [OPENING_TEXT.get(opening, ""), clean_text(text or "").strip()]
    return "".join(p for p in parts if p)


def case_progress_notice(
    *,
    case: Case,
    by: Any,
    channel: str,
    text: str = "",
    opening: str = "",
    at: dt.datetime | None = None,
) -> CaseEvent:
    """进展告知 before the formal reply. Guard: staff of the handling unit (承办人、单位负责人)
    or of the registering office (接待员、办案员); state 已交办/已转送/已签收/已受理 or
    复查/复核申请中. Effect: the notice to the petitioner on ``channel``. Event:
    ``progress_notice`` (public; data channel, message_ids)."""
    if case.status not in PROGRESS_STATES:
        raise DomainError(
            f"当前状态（{case.get_status_display()}）不能发送进展告知：已答复的事项请以答复意见为准"
        )
    if not may_send_progress(by, case):
        raise PermissionDenied("只有承办单位或登记信访机构的工作人员可以发送进展告知")
    if opening and opening not in OPENING_TEXT:
        raise DomainError("请从列表中选择常用开头", field="opening")
    full = progress_text(opening, text)
    if not full:
        raise DomainError("请选择常用开头或填写告知内容", field="text")
    return _send(
        case=case,
        by=by,
        channels=[channel],
        text=full,
        kind="progress_notice",
        at=at,
        data={"opening": opening} if opening else None,
    )


# --- 延期告知 ----------------------------------------------------------------------------------


def extension_notice_text(case: Case, *, days: int, reason: str, handle_due: str) -> str:
    due = handle_due
    try:
        d = dt.date.fromisoformat(handle_due)
        due = f"{d.year}年{d.month}月{d.day}日"
    except (TypeError, ValueError):
        pass
    why = (
        "因调查核实需要" if case.is_confidential else f"因{clean_text(reason).strip().rstrip('。')}"
    )
    return f"{why}，经审批，您的信访事项办理期限延长{days}日，办结期限至{due}。"


def send_extension_notice(
    *, case: Case, by: Any, days: int, reason: str, handle_due: str, at: dt.datetime | None = None
) -> CaseEvent | None:
    """延期告知 after an approved extension (``cases.services.case_decide_extension``): the
    notice through the portal and, when a principal has a phone, by SMS. Event
    ``extension_notice`` (public; data days, handle_due, channel, message_ids). 检举控告件: the
    reason is not repeated (it may describe the accusation)."""
    text = extension_notice_text(case, days=days, reason=reason, handle_due=handle_due)
    people = _principals(case)
    if not people:
        return None  # nobody to tell; the approval itself stands
    channels = [MessageChannel.PORTAL.value]
    if any(p.phone for p in people):
        channels.append(MessageChannel.SMS.value)
    return _send(
        case=case,
        by=by,
        channels=channels,
        text=text,
        kind="extension_notice",
        at=at,
        data={"days": days, "handle_due": handle_due},
    )
