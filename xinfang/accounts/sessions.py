"""What a session remembers about its own security: when the password was entered, when it
was last used, under which epoch it was created, and whether its user has a second factor."""

from __future__ import annotations

import time
from typing import Any

from django.http import HttpRequest

from xinfang.accounts.models import AccountSecurity

AUTH_AT = "xf_auth_at"  # epoch seconds of the password login
SEEN_AT = "xf_seen_at"  # epoch seconds of the last request (updated at most once a minute)
EPOCH = "xf_epoch"  # AccountSecurity.session_epoch when the session was created
HAS_OTP = "xf_has_otp"  # the user had a confirmed OTP device at login (or set one up since)


def current_epoch(user_id: int) -> int:
    value = (
        AccountSecurity.objects.filter(user_id=user_id)
        .values_list("session_epoch", flat=True)
        .first()
    )
    return int(value or 0)


def user_has_otp(user: Any) -> bool:
    from django_otp import user_has_device

    return bool(user_has_device(user, confirmed=True))


def stamp(request: HttpRequest, user: Any) -> None:
    now = int(time.time())
    session = request.session
    session[AUTH_AT] = now
    session[SEEN_AT] = now
    session[EPOCH] = current_epoch(user.pk)
    session[HAS_OTP] = user_has_otp(user)
