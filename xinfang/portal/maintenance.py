"""Housekeeping of the portal's short-lived rows (``manage.py portal_purge``, run hourly):
nothing personal is kept longer than it serves.

- ``PendingSubmission``: ``submission.pending_purge`` (expired unconfirmed ones lose their
  encrypted form copy and files at once, every row goes a day after expiry; a confirmed row
  lives that day so a retried confirmation still finds its case).
- ``PhoneChallenge``: deleted a day after expiry.
- ``RateCounter`` (core.ratelimit): windows that have ended.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from xinfang.core.models import RateCounter
from xinfang.portal.models import PhoneChallenge
from xinfang.portal.submission import pending_purge

CHALLENGE_KEEP = dt.timedelta(days=1)


def purge_expired(now: dt.datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    return {
        "pending": pending_purge(now),
        "challenges": PhoneChallenge.objects.filter(expires_at__lt=now - CHALLENGE_KEEP).delete()[
            0
        ],
        "rate_counters": RateCounter.objects.filter(expires__lt=int(now.timestamp())).delete()[0],
    }
