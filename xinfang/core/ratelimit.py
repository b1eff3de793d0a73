"""Rate limits without a third-party service: fixed windows counted in the database.

``rate_hit("portal_track_ip", ip, RateRule(30, 600))`` counts one request of that identity in
the current 10-minute window and says whether it is within the limit. The counter is one row
per scope × identity × window, incremented by a single ``INSERT … ON CONFLICT DO UPDATE …
RETURNING`` (PostgreSQL, SQLite ≥ 3.35), so gunicorn workers and machines sharing the database
share the count and two requests at once are both counted. Identities are stored as an HMAC
(``core.crypto.blind_index``): no IP address, phone or query code is kept.

Why not django-ratelimit: it needs a cache with atomic increments shared by every worker
(Redis or Memcached); the single-machine default runs with neither, and its database cache
does not increment atomically. Rules are data (settings ``XINFANG_RATES``, env-configurable).
"""

from __future__ import annotations

import ipaddress
import random
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connections, router

from xinfang.core.crypto import blind_index
from xinfang.core.models import RateCounter

PURGE_PROBABILITY = 0.01


@dataclass(frozen=True)
class RateRule:
    limit: int  # requests allowed per window; 0 disables the rule
    seconds: int  # window length

    @classmethod
    def parse(cls, text: str) -> RateRule:
        """``"30/600"`` → 30 per 600 s; ``"30/10m"``, ``"5/1h"``, ``"100/1d"``; ``"0"`` off."""
        text = text.strip()
        if text in ("", "0"):
            return cls(0, 60)
        count, _, period = text.partition("/")
        units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
        period = period.strip() or "60"
        factor = units.get(period[-1], 1)
        number = period[:-1] if period[-1] in units else period
        return cls(int(count), int(number or "1") * factor)


@dataclass(frozen=True)
class RateResult:
    allowed: bool
    count: int
    retry_after: int  # seconds until the window ends


def rule(name: str) -> RateRule:
    """The configured rule ``name`` (settings ``XINFANG_RATES``)."""
    return RateRule.parse(str(settings.XINFANG_RATES.get(name, "0")))


def _window(limit: RateRule, now: float) -> int:
    """The start (epoch seconds) of the window of ``limit`` that ``now`` falls in."""
    return int(now // limit.seconds) * limit.seconds


def _ident(scope: str, identity: str) -> str:
    return blind_index("ratelimit:" + scope, identity)


def rate_hit(
    scope: str, identity: str, limit: RateRule | None = None, *, now: float | None = None
) -> RateResult:
    """Count one request of ``identity`` under ``scope`` (its rule from settings unless given)."""
    limit = limit or rule(scope)
    if limit.limit <= 0 or not identity:
        return RateResult(True, 0, 0)
    now = time.time() if now is None else now
    window = _window(limit, now)
    count = _increment(scope, _ident(scope, identity), window, window + limit.seconds)
    if random.random() < PURGE_PROBABILITY:
        RateCounter.objects.filter(expires__lt=int(now)).delete()
    return RateResult(count <= limit.limit, count, retry_after(limit, now=now))


def retry_after(limit: RateRule, *, now: float | None = None) -> int:
    """Seconds until the current window of ``limit`` ends."""
    now = time.time() if now is None else now
    return max(1, _window(limit, now) + limit.seconds - int(now))


def rate_peek(
    scope: str, identity: str, limit: RateRule | None = None, *, now: float | None = None
) -> int:
    """The count so far in the current window (no increment)."""
    limit = limit or rule(scope)
    if limit.limit <= 0 or not identity:
        return 0
    now = time.time() if now is None else now
    row = RateCounter.objects.filter(
        scope=scope, ident=_ident(scope, identity), window=_window(limit, now)
    ).values_list("count", flat=True)
    return int(row.first() or 0)


def _increment(scope: str, ident: str, window: int, expires: int) -> int:
    connection = connections[router.db_for_write(RateCounter)]
    qn = connection.ops.quote_name
    table = qn(RateCounter._meta.db_table)
    sql = (
        f"INSERT INTO {table} ({qn('scope')}, {qn('ident')}, {qn('window')}, {qn('count')}, "
        f"{qn('expires')}) VALUES (%s, %s, %s, 1, %s) "
        f"ON CONFLICT ({qn('scope')}, {qn('ident')}, {qn('window')}) "
        f"DO UPDATE SET {qn('count')} = {table}.{qn('count')} + 1 RETURNING {qn('count')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [scope, ident, window, expires])
        row = cursor.fetchone()
    return int(row[0])


def client_ip(request: object) -> str:
    """The client address for rate limits (settings ``XINFANG_CLIENT_IP_HEADER`` behind a
    reverse proxy, else ``REMOTE_ADDR``).

    Of a list (``X-Forwarded-For``) the *last* address: the one our proxy appended; the ones
    before it are whatever the client sent, so taking the first would let every request
    claim a new address. An IPv6 address counts as its /64 network (one subscriber's
    allocation: one address per request is free to have)."""
    meta = getattr(request, "META", {})
    header = getattr(settings, "XINFANG_CLIENT_IP_HEADER", "")
    raw = str(meta.get(header, "") if header else "") or str(meta.get("REMOTE_ADDR", ""))
    address = raw.split(",")[-1].strip()[:45]
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return address
