"""Attachments: size and type limits, content signature checked, stored under a random name."""

from __future__ import annotations

import hashlib
import os
import secrets
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from xinfang.cases.models import Attachment, Case, CaseEvent
from xinfang.core.errors import DomainError

# First bytes of each allowed kind; text has none. A renamed executable fails here.
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    ".pdf": (b"%PDF",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".doc": (b"\xd0\xcf\x11\xe0",),
    ".docx": (b"PK\x03\x04",),
    ".mp3": (b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"),
    ".wav": (b"RIFF",),
}


def human_size(n: int) -> str:
    if n >= 1048576:
        return f"{n / 1048576:.1f}MB"
    if n >= 1024:
        return f"{n / 1024:.0f}KB"
    return f"{n}字节"


def check_upload(upload: UploadedFile) -> str:
    """Return the extension, or raise DomainError with a specific Chinese message."""
    name = upload.name or ""
    ext = os.path.splitext(name)[1].lower()
    allowed = settings.ATTACHMENT_ALLOWED_EXTENSIONS
    if ext not in allowed:
        kinds = "、".join(sorted(e.lstrip(".") for e in allowed))
        raise DomainError(f"附件「{name}」的类型不允许上传（允许：{kinds}）", field="attachments")
    size = upload.size or 0
    limit = settings.ATTACHMENT_MAX_BYTES
    if size > limit:
        raise DomainError(
            f"附件「{name}」大小为{human_size(size)}，超过上限{human_size(limit)}",
            field="attachments",
        )
    head = upload.read(16)
    upload.seek(0)
    signatures = SIGNATURES.get(ext)
    if signatures and not any(head.startswith(s) for s in signatures):
        raise DomainError(f"附件「{name}」的内容与扩展名{ext}不符，已拒绝", field="attachments")
    if ext == ".txt" and b"\x00" in head:
        raise DomainError(f"附件「{name}」不是文本文件", field="attachments")
    return ext


def attachment_add(*, case: Case, by: Any, upload: UploadedFile) -> Attachment:
    """Store one file for the case. Guard: ``check_upload``. Event: ``attachment``."""
    ext = check_upload(upload)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    with transaction.atomic():
        att = Attachment(
            case=case,
            original_name=(upload.name or "")[:200],
            stored_name=secrets.token_hex(16) + ext,
            content_type=settings.ATTACHMENT_ALLOWED_EXTENSIONS[ext],
            size=upload.size or 0,
            sha256=digest.hexdigest(),
            uploaded_by=by,
        )
        att.file.save(att.stored_name, upload, save=False)
        att.save()
        from django.utils import timezone

        CaseEvent.objects.create(
            case=case,
            kind="attachment",
            actor=by,
            at=timezone.now(),
            from_status=case.status,
            to_status=case.status,
            text=f"上传附件「{att.original_name}」（{att.size}字节）",
        )
    return att
