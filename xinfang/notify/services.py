"""Sending notifications: the one entry point every feature calls (``notify``), and who the
recipients of a unit are.

``notify`` stores one ``Notification`` per recipient inside the caller's transaction; with a
``dedupe_key`` it is idempotent per recipient (a unique index, not a read-then-write), so sweeps
and retried requests never notify anyone twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils import timezone

from xinfang.notify.models import Notification
from xinfang.org import roles as R


def notify(
    recipients: Iterable[Any],
    *,
    kind: str,
    title: str,
    body: str = "",
    case: Any = None,
    url: str = "",
    dedupe_key: str = "",
    email: bool = False,
    at: dt.datetime | None = None,
) -> int:
    """Put a message in each recipient's inbox; returns how many were new. ``email=True`` also
    queues it for e-mail (sent after commit by ``notify.mail``)."""
    now = at or timezone.now()
    users = {u.pk: u for u in recipients if u is not None and u.is_active}
    if case is not None and case.is_confidential:
        # 检举控告: the accused (persons, staff of accused units) are never told, and what is
        # stored and mailed names only the case number (confidential_title / _body).
        for pk in accused_user_ids(case, users):
            users.pop(pk, None)
        title = confidential_title(case, kind)
        body = CONFIDENTIAL_BODY
    if not users:
        return 0
    if case is not None and not url:
        url = f"/cases/{case.pk}/"
    rows = [
        Notification(
            recipient_id=pk,
            kind=kind,
            title=title[:200],
            body=body,
            case=case,
            url=url,
            dedupe_key=dedupe_key[:150],
            created_at=now,
        )
        for pk in users
    ]
    if dedupe_key:
        existing = set(
            Notification.objects.filter(
                recipient_id__in=list(users), dedupe_key=dedupe_key[:150]
            ).values_list("recipient_id", flat=True)
        )
        rows = [r for r in rows if r.recipient_id not in existing]
    # ignore_conflicts: two sweeps racing on the same key store it once (the unique index).
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    if email and rows:
        from xinfang.notify import mail

        mail.queue(
            [r.recipient_id for r in rows],
            dedupe_key=dedupe_key[:150],
            title=title[:200],
            kind=kind,
            at=now,
        )
    return len(rows)


# --- 检举控告 confidentiality -----------------------------------------------------------------

CONFIDENTIAL_MARK = "【检举控告件】"
CONFIDENTIAL_BODY = "检举控告件内容保密，请登录系统查看办理要求。"

# What each notification kind is called (inbox filter, confidential titles). Other features'
# kinds not listed here are shown by their code.
KIND_LABELS: dict[str, str] = {
    "assignment": "新交办/转送事项",
    "due_soon": "临期提醒",
    "overdue": "超期提醒",
    "instruction": "领导批示",
    "remind": "临期提醒",
    "urge": "催办",
    "supervise": "督办",
    "escalate": "提级督办",
    "sign_in_remind": "签收提醒",
    "extension": "延期审批",
    "return": "退回",
    "reply": "答复审核",
    "instruction_report": "批示办理报告",
    "instruction_urge": "批示催办",
    "dissatisfied_task": "不满意复核任务",
    "followup": "回访",
    "collective_visit": "集体访提醒",
    "ownership": "领导包案",
    # 预防排查 (xinfang.prevention)
    "alert": "预警",
    "urgent_report": "信息员紧急报告",
    "screening_remind": "排查报送提醒",
    "dispute": "矛盾纠纷台账",
    "strike_request": "销号审核",
    "key_review": "重点人员评估提醒",
}


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind)


def case_label(case: Any) -> str:
    """How a notification names a case: the number, and the summary unless it is a 检举控告件
    (then only "【检举控告件】" + number)."""
    if case.is_confidential:
        return f"{CONFIDENTIAL_MARK}{case.number}"
    summary = case.summary if len(case.summary) <= 40 else case.summary[:40] + "…"
    return f"{case.number} {summary}"


def confidential_title(case: Any, kind: str) -> str:
    return f"{CONFIDENTIAL_MARK}{case.number}：{kind_label(kind)}"


def accused_user_ids(case: Any, user_ids: Iterable[int]) -> set[int]:
    """Those of ``user_ids`` accused in ``case``: named as accused, or holding a post (any
    role) in an accused unit or a unit below one. Two queries at most."""
    from xinfang.cases.confidential import AccusedPersons
    from xinfang.org.models import Membership, Unit

    ids = set(user_ids)
    if not ids or case.pk is None:
        return set()
    out = set(
        AccusedPersons.objects.filter(case_id=case.pk, user_id__in=ids).values_list(
            "user_id", flat=True
        )
    )
    paths = list(Unit.objects.filter(accusations=case).values_list("path", flat=True))  # type: ignore[misc]
    if paths:
        under = Q()
        for path in paths:
            under |= Q(unit__path__startswith=path)
        out |= set(
            Membership.objects.filter(under, user_id__in=ids).values_list("user_id", flat=True)
        )
    return out


# --- the inbox --------------------------------------------------------------------------------


def inbox(user: Any, *, unread: bool = False, kind: str = "", q: str = "") -> QuerySet[Any]:
    """The user's own notifications, newest first (``notif_inbox`` index)."""
    qs = Notification.objects.filter(recipient=user)
    if unread:
        qs = qs.filter(read_at__isnull=True)
    if kind:
        qs = qs.filter(kind=kind)
    q = (q or "").strip()
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(body__icontains=q))
    return qs.order_by("-created_at", "-id")


def notification_of(user: Any, pk: int) -> Notification:
    """The user's own notification, else ``NotFound`` (someone else's row is a 404)."""
    n = Notification.objects.filter(recipient=user, pk=pk).first()
    if n is None:
        raise Notification.DoesNotExist("消息不存在")
    return n


def mark_read(user: Any, pk: int, *, at: dt.datetime | None = None) -> Notification:
    """Mark one of the user's notifications read (idempotent: the first read time stays)."""
    n = notification_of(user, pk)
    now = at or timezone.now()
    if Notification.objects.filter(pk=n.pk, read_at__isnull=True).update(read_at=now):
        n.read_at = now
    else:
        n.refresh_from_db(fields=["read_at"])
    return n


def mark_all_read(user: Any, *, at: dt.datetime | None = None) -> int:
    """Mark every unread notification of the user read; returns how many."""
    now = at or timezone.now()
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=now)


def unit_staff(unit: Any, roles: Iterable[str] = R.UNIT_STAFF) -> QuerySet[Any]:
    """Active users holding one of ``roles`` in ``unit`` itself."""
    if unit is None:
        return get_user_model().objects.none()
    return (
        get_user_model()
        .objects.filter(
            is_active=True, memberships__unit=unit, memberships__role__code__in=list(roles)
        )
        .distinct()
    )


def unit_heads(unit: Any) -> QuerySet[Any]:
    return unit_staff(unit, {R.UNIT_HEAD})


def leaders_over(unit: Any) -> QuerySet[Any]:
    """Leaders (领导) of the unit or of the nearest unit above it that has one."""
    node = unit
    while node is not None:
        qs = unit_staff(node, {R.LEADER})
        if qs.exists():
            return qs
        node = node.parent
    return get_user_model().objects.none()


def unread_count(user: Any) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
