"""E-mail copies of notifications, through Django's e-mail backend, sent after the commit.

``notify(..., email=True)`` calls :func:`queue` inside the caller's transaction; the mails go
out only once that transaction has committed (a rolled-back action mails nobody). One mail per
new notification whose recipient has an address. Each row is *claimed* with a conditional
UPDATE of ``emailed_at`` before its mail is sent, so two workers (or a retried sweep) never
send the same row twice; a failed send is logged (never raised to the clerk) and the claim is
released (``emailed_at`` back to empty).

The backend is Django's ``EMAIL_BACKEND`` setting (``XINFANG_EMAIL_BACKEND``): the console
backend in development, SMTP in production, ``locmem`` in tests (``mail.outbox``).
Titles of 检举控告 notifications are already reduced to "【检举控告件】" + number by ``notify``.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone

from xinfang.notify.models import Notification

log = logging.getLogger(__name__)

SIGNATURE = "\n\n——\n民声 · 信访工作平台（系统邮件，请勿直接回复）"


def _site_url() -> str:
    return str(getattr(settings, "XINFANG_SITE_URL", "") or "").rstrip("/")


def _message(n: Notification) -> EmailMessage:
    lines = [n.body or n.title]
    if n.url:
        lines.append(f"查看：{_site_url()}{n.url}")
    return EmailMessage(
        subject=f"[民声] {n.title}",
        body="\n\n".join(lines) + SIGNATURE,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[n.recipient.email],
    )


def send_rows(rows: list[Notification], *, at: dt.datetime | None = None) -> int:
    """Send one mail per row not yet e-mailed; returns how many were sent."""
    now = at or timezone.now()
    sent = 0
    connection = None
    for n in rows:
        if not n.recipient.email:
            continue
        # Claim the row: of two senders only one wins.
        if not Notification.objects.filter(pk=n.pk, emailed_at__isnull=True).update(emailed_at=now):
            continue
        try:
            if connection is None:
                connection = get_connection()
            connection.send_messages([_message(n)])
        except Exception:
            log.exception(
                "notification mail to user %s failed (notification %s)", n.recipient_id, n.pk
            )
            Notification.objects.filter(pk=n.pk, emailed_at=now).update(emailed_at=None)
        else:
            sent += 1
    return sent


def queue(
    recipient_ids: list[int],
    *,
    dedupe_key: str,
    title: str,
    at: dt.datetime,
    kind: str = "",
) -> None:
    """After the commit: mail the notifications just stored for ``recipient_ids``."""

    def _send() -> None:
        rows = Notification.objects.filter(
            recipient_id__in=recipient_ids, emailed_at__isnull=True
        ).select_related("recipient")
        if dedupe_key:
            rows = rows.filter(dedupe_key=dedupe_key)
        else:
            rows = rows.filter(created_at=at, title=title)
            if kind:
                rows = rows.filter(kind=kind)
        try:
            send_rows(list(rows))
        except Exception:
            log.exception("notification mails for %r not sent", dedupe_key or title)

    transaction.on_commit(_send)
