"""Idempotent submissions: a retry after a timeout gets the first answer, never a second effect.

Every create (a form post of the workbench, any ``POST /api/…``) may carry a key chosen by the
client: the hidden field ``idempotency_key`` of each form (``{% idempotency_field %}``), or the
``Idempotency-Key`` request header of the API. ``run_once`` claims the key with an
``IdempotencyRecord`` row *before* the effect, in the same transaction:

- a second request with the same user + scope + key finds the row and gets the stored answer;
- the same key with different content is refused (``IdempotencyConflict``, 409 in the API);
- two copies at the same instant: the second insert of the claim waits on the unique index until
  the first commits, then fails and reads the stored answer — exactly one effect;
- an effect that fails (``DomainError``, crash, power cut) rolls the claim back with it, so the
  corrected retry runs normally.

Records older than ``settings.IDEMPOTENCY_RETENTION_DAYS`` are removed by ``purge``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from xinfang.core.errors import DomainError, IdempotencyConflict
from xinfang.core.models import IdempotencyRecord

logger = logging.getLogger(__name__)

T = TypeVar("T")

FORM_FIELD = "idempotency_key"
HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 100
CONFLICT_MESSAGE = "该提交标识已用于另一内容，请刷新页面后重新提交"
# Form fields that are not part of what the user submitted.
_NOT_CONTENT = {"csrfmiddlewaretoken", FORM_FIELD}


def valid_key(key: str) -> bool:
    return 0 < len(key) <= MAX_KEY_LENGTH and all(33 <= ord(c) < 127 for c in key)


def check_key(key: str, field: str = FORM_FIELD) -> None:
    if not valid_key(key):
        raise DomainError(
            f"提交标识应为1至{MAX_KEY_LENGTH}个可见ASCII字符（字母、数字、符号）", field=field
        )


def fingerprint(*parts: Any) -> str:
    """SHA-256 over a canonical JSON of ``parts`` (bytes are hashed first)."""
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, bytes):
            part = "sha256:" + hashlib.sha256(part).hexdigest()
        digest.update(json.dumps(part, sort_keys=True, ensure_ascii=False, default=str).encode())
        digest.update(b"\x00")
    return digest.hexdigest()


def form_key(request: HttpRequest) -> str:
    return (request.POST.get(FORM_FIELD) or "").strip()


def post_fingerprint(request: HttpRequest) -> str:
    """What the user submitted in a form post: every field but the CSRF token and the key,
    and each uploaded file by name and content hash."""
    fields = sorted(
        (name, values) for name, values in request.POST.lists() if name not in _NOT_CONTENT
    )
    files = []
    for name, uploads in request.FILES.lists():
        for upload in uploads:
            digest = hashlib.sha256()
            for chunk in upload.chunks():
                digest.update(chunk)
            upload.seek(0)
            files.append((name, upload.name, upload.size, digest.hexdigest()))
    return fingerprint(request.method, request.path, fields, sorted(files))


@dataclass
class Once(Generic[T]):
    """The outcome of ``run_once``: a fresh ``value``, or the ``record`` of the first answer."""

    value: T | None
    record: IdempotencyRecord | None
    replayed: bool


@dataclass
class Stored:
    """What to keep of a fresh result so that a replay can answer the same."""

    status_code: int = 200
    content_type: str = ""
    body: str = ""
    object_type: str = ""
    object_id: str = ""


def replay_of(*, user: Any, key: str, scope: str, fingerprint: str) -> IdempotencyRecord | None:
    """The stored answer for this exact submission, or None (unknown key, or other content —
    ``run_once`` then refuses the latter)."""
    if not key or not getattr(user, "is_authenticated", False):
        return None
    record = IdempotencyRecord.objects.filter(user=user, scope=scope, key=key).first()
    if record is None or record.fingerprint != fingerprint:
        return None
    return record


def run_once(
    *,
    user: Any,
    key: str,
    scope: str,
    fingerprint: str,
    effect: Callable[[], T],
    keep: Callable[[T], Stored | None] | None = None,
    rollback_if: Callable[[T], bool] | None = None,
) -> Once[T]:
    """Run ``effect`` at most once per ``(user, scope, key)``.

    Without a key the effect simply runs. ``keep(value)`` says what to store for replays;
    returning None means "this was no success": the claim is withdrawn (the effect's own writes,
    if any, stay — services roll theirs back when they fail). ``rollback_if(value)`` true undoes
    everything, the effect's writes included (a server error half-way through a request).
    """
    if not key:
        return Once(effect(), None, False)
    check_key(key)
    for _attempt in range(3):
        existing = IdempotencyRecord.objects.filter(user=user, scope=scope, key=key).first()
        if existing is not None:
            if existing.fingerprint != fingerprint:
                raise IdempotencyConflict(CONFLICT_MESSAGE, field=FORM_FIELD)
            return Once(None, existing, True)
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(
                        key=key, user=user, scope=scope, fingerprint=fingerprint
                    )
            except IntegrityError:
                # The same submission is being (or was just) handled by another request:
                # its claim is committed now — read its answer.
                record = None
            if record is not None:
                value = effect()
                if rollback_if is not None and rollback_if(value):
                    transaction.set_rollback(True)
                    return Once(value, None, False)
                stored = keep(value) if keep is not None else Stored()
                if stored is None:
                    _withdraw(record)
                    return Once(value, None, False)
                for name, field_value in stored.__dict__.items():
                    setattr(record, name, field_value)
                record.save(update_fields=list(stored.__dict__))
                return Once(value, record, False)
    raise IdempotencyConflict("该提交正在处理中，请稍后刷新查看结果", field=FORM_FIELD)


def _withdraw(record: IdempotencyRecord) -> None:
    try:
        with transaction.atomic():
            IdempotencyRecord.objects.filter(pk=record.pk).delete()
    except DatabaseError:
        # The request's transaction is broken (e.g. a failed statement on PostgreSQL): roll
        # back all of it, the claim included.
        transaction.set_rollback(True)


def replay_response(record: IdempotencyRecord) -> HttpResponse:
    """The stored API answer. A first ``201 Created`` replays as ``200``: nothing is created now."""
    status = 200 if record.status_code == 201 else record.status_code
    response = HttpResponse(
        record.body, status=status, content_type=record.content_type or "application/json"
    )
    response["Idempotent-Replayed"] = "true"
    return response


def purge(*, older_than_days: int | None = None, now: dt.datetime | None = None) -> int:
    """Delete records older than the retention; returns how many."""
    days = (
        older_than_days
        if older_than_days is not None
        else getattr(settings, "IDEMPOTENCY_RETENTION_DAYS", 7)
    )
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
