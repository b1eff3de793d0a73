"""Attachments: the kind is detected from the content, images re-encoded, stored under a random
name outside the web root, and read back only through an access-checked, audited download.

Decisions (docs/security.md, "附件与输入"):

- The allow-list is applied to the **detected** kind (magic bytes and structure): PDF, JPEG,
  PNG, DOCX (a ZIP holding ``word/document.xml``, no macros), DOC (an OLE file holding a
  ``WordDocument`` stream), MP3, WAV, plain text (UTF-8 or GB18030, no NUL or other binary
  control bytes). The name the user gave is not consulted for the decision: a scan called
  ``材料.pdf`` that is really a PNG is accepted *as a PNG* (stored type and extension come from
  the content, the download is offered as ``材料.png``); anything whose content is not one of
  these kinds is refused whatever it is called.
- JPEG and PNG are decoded and re-encoded with Pillow: EXIF (GPS position, camera serial),
  comments and text chunks are dropped and trailing data appended to an image (polyglots)
  does not survive. A truncated or malformed image, or one above the pixel limit (a
  decompression bomb), is refused with a Chinese message.
- Size and sha256 describe the stored bytes (after re-encoding).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
import unicodedata
import warnings
import zipfile
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.http import FileResponse, HttpRequest
from django.utils import timezone

from xinfang.cases.models import Attachment, Case, CaseEvent
from xinfang.core.errors import DomainError

FIELD = "attachments"
HEAD_BYTES = 8192
# Largest image accepted, in pixels (width × height): a 12 000 × 8 000 scan is 96 MP.
DEFAULT_MAX_IMAGE_PIXELS = 100_000_000


@dataclass(frozen=True)
class Kind:
    ext: str
    content_type: str
    label: str


PDF = Kind(".pdf", "application/pdf", "PDF")
JPEG = Kind(".jpg", "image/jpeg", "JPEG图片")
PNG = Kind(".png", "image/png", "PNG图片")
DOCX = Kind(
    ".docx",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "Word文档（DOCX）",
)
DOC = Kind(".doc", "application/msword", "Word文档（DOC）")
MP3 = Kind(".mp3", "audio/mpeg", "MP3音频")
WAV = Kind(".wav", "audio/wav", "WAV音频")
TEXT_UTF8 = Kind(".txt", "text/plain; charset=utf-8", "纯文本")
TEXT_GB18030 = Kind(".txt", "text/plain; charset=gb18030", "纯文本（GB18030）")

ALLOWED_LABEL = "PDF、JPEG、PNG、Word（DOC/DOCX）、MP3、WAV、纯文本（UTF-8或GB18030编码）"
ALLOWED_EXTS = "pdf、jpg、png、doc、docx、mp3、wav、txt"

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
WORD_STREAM = "WordDocument".encode("utf-16-le")
# Bytes that never occur in a text file: C0 controls except TAB, LF, FF, CR, and SUB (^Z, DOS end).
_BINARY_BYTES = re.compile(b"[\x00-\x08\x0b\x0e-\x19\x1b-\x1f]")

# What a refused file looks like, when we can tell: the message names it.
_KNOWN_BAD: tuple[tuple[bytes, str], ...] = (
    (b"MZ", "Windows可执行程序"),
    (b"\x7fELF", "Linux可执行程序"),
    (b"#!", "脚本"),
    (b"Rar!", "RAR压缩包"),
    (b"7z\xbc\xaf\x27\x1c", "7z压缩包"),
    (b"\x1f\x8b", "gzip压缩包"),
    (b"GIF8", "GIF图片"),
    (b"BM", "BMP图片"),
)


def human_size(n: int) -> str:
    if n >= 1048576:
        return f"{n / 1048576:.1f}MB"
    if n >= 1024:
        return f"{n / 1024:.0f}KB"
    return f"{n}字节"


class Refused(DomainError):
    pass


def _refuse(name: str, why: str) -> Refused:
    return Refused(f"附件「{name}」{why}", field=FIELD)


def _not_allowed(name: str, what: str) -> Refused:
    ext = os.path.splitext(name)[1].lower()
    claimed = (
        f"文件内容与扩展名{ext}不符，" if ext in settings.ATTACHMENT_ALLOWED_EXTENSIONS else ""
    )
    return _refuse(
        name,
        f"的类型不允许上传：{claimed}按内容识别为{what}（按内容而非扩展名判断；"
        f"允许：{ALLOWED_LABEL}，即 {ALLOWED_EXTS}）",
    )


def _read_all(upload: Any) -> bytes:
    upload.seek(0)
    data = b"".join(upload.chunks()) if hasattr(upload, "chunks") else upload.read()
    upload.seek(0)
    return bytes(data)


def _is_mp3(head: bytes) -> bool:
    if head.startswith(b"ID3") and len(head) >= 10:
        return True
    if len(head) < 4 or head[0] != 0xFF or (head[1] & 0xE0) != 0xE0:
        return False
    version = (head[1] >> 3) & 0x3  # 01 reserved
    layer = (head[1] >> 1) & 0x3  # 01 = layer III
    bitrate = head[2] >> 4
    rate = (head[2] >> 2) & 0x3
    return version != 1 and layer == 1 and bitrate not in (0, 15) and rate != 3


def _docx_or_refuse(name: str, data: bytes) -> Kind:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = set(z.namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise _refuse(name, "是损坏的ZIP/Office文件，无法打开") from None
    if "word/document.xml" not in names or "[Content_Types].xml" not in names:
        if "xl/workbook.xml" in names:
            what = "Excel表格（XLSX）"
        elif "ppt/presentation.xml" in names:
            what = "PowerPoint演示文稿（PPTX）"
        else:
            what = "ZIP压缩包"
        raise _not_allowed(name, what)
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        raise _refuse(name, "是含宏的Word文档，出于安全原因不允许上传，请另存为不含宏的DOCX或PDF")
    return DOCX


def _text_kind(data: bytes) -> Kind | None:
    if _BINARY_BYTES.search(data):
        return None
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    try:
        body.decode("utf-8")
        return TEXT_UTF8
    except UnicodeDecodeError:
        pass
    try:
        body.decode("gb18030")
        return TEXT_GB18030
    except UnicodeDecodeError:
        return None


def detect_kind(name: str, data: bytes) -> Kind:
    """The allowed kind of ``data``, or ``Refused`` saying what it is and what is allowed."""
    head = data[:HEAD_BYTES]
    if not data:
        raise _refuse(name, "是空文件")
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"PK\x03\x04"):
        return _docx_or_refuse(name, data)
    if head.startswith(OLE_MAGIC):
        if WORD_STREAM in data:
            return DOC
        raise _not_allowed(name, "Office 97-2003复合文档，但不是Word文档（如Excel、PowerPoint）")
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return WAV
    if _is_mp3(head):
        return MP3
    for magic, what in _KNOWN_BAD:
        if head.startswith(magic):
            raise _not_allowed(name, what)
    text = _text_kind(data)
    if text is not None:
        return text
    raise _not_allowed(name, "未知的二进制格式")


def _reencode_image(name: str, data: bytes, kind: Kind) -> bytes:
    """Decode fully and encode again (no metadata), or refuse with the reason."""
    from PIL import Image, ImageFile, ImageOps

    # A library loaded later in the process may relax this process-wide flag (WeasyPrint does
    # on import): a truncated upload must fail ``load()`` below whatever else was imported.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    limit = int(getattr(settings, "ATTACHMENT_MAX_IMAGE_PIXELS", DEFAULT_MAX_IMAGE_PIXELS))
    fmt = "PNG" if kind is PNG else "JPEG"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[fmt]) as opened:
                img: Image.Image = opened
                w, h = opened.size
                if w * h > limit:
                    raise _refuse(
                        name,
                        f"的图像尺寸过大（{w}×{h}像素，上限{limit // 1_000_000}百万像素），"
                        "可能是“解压炸弹”，已拒绝；请缩小后再上传",
                    )
                opened.load()  # the whole image: a truncated file fails here
                img = ImageOps.exif_transpose(img) or img  # keep photos upright without EXIF
                # Nothing from the original's metadata is written back (EXIF, XMP, ICC, text
                # chunks, comments); only palette transparency is pixel data.
                img.info = {k: v for k, v in img.info.items() if k == "transparency"}
                out = io.BytesIO()
                if fmt == "JPEG":
                    if img.mode not in ("RGB", "L", "CMYK"):
                        img = img.convert("RGB")
                    img.save(out, "JPEG", quality=90, optimize=True)
                else:
                    if img.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16"):
                        img = img.convert("RGBA")
                    img.save(out, "PNG", optimize=True)
    except Refused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _refuse(
            name, f"的图像尺寸过大（超过{limit // 1_000_000}百万像素），可能是“解压炸弹”，已拒绝"
        ) from None
    except (OSError, SyntaxError, ValueError, Image.UnidentifiedImageError, EOFError):
        raise _refuse(
            name, f"不是完整有效的{kind.label}（文件损坏或被截断），无法处理，请重新导出后上传"
        ) from None
    except MemoryError:
        raise _refuse(name, "的图像过大，无法处理") from None
    return out.getvalue()


@dataclass
class CheckedUpload:
    kind: Kind
    content: bytes  # what is stored: the upload, or the re-encoded image


def check_upload(upload: Any) -> CheckedUpload:
    """Size limit, detected kind, images re-encoded; ``DomainError`` (field ``attachments``)
    with a specific Chinese message otherwise."""
    name = clean_name(upload.name or "")
    size = upload.size or 0
    limit = settings.ATTACHMENT_MAX_BYTES
    if size > limit:
        raise _refuse(name, f"大小为{human_size(size)}，超过上限{human_size(limit)}")
    data = _read_all(upload)
    if len(data) > limit:  # a lying Content-Length
        raise _refuse(name, f"大小为{human_size(len(data))}，超过上限{human_size(limit)}")
    kind = detect_kind(name, data)
    if kind in (JPEG, PNG):
        data = _reencode_image(name, data, kind)
    return CheckedUpload(kind=kind, content=data)


def clean_name(name: str) -> str:
    """The display name: no directory part, no control/format characters, at most 200 chars
    with the extension kept."""
    from xinfang.core.text import clean_line

    name = clean_line(name.replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(ch for ch in name if ch not in '"<>|:*?') or "附件"
    if len(name) > 200:
        stem, ext = os.path.splitext(name)
        name = stem[: 200 - len(ext[:20])] + ext[:20]
    return name


def download_name(att: Attachment) -> str:
    """The original name, with the extension of the stored kind (``材料.pdf`` that was a PNG is
    offered as ``材料.png``) so the reader's computer opens it with the right program."""
    stem, ext = os.path.splitext(att.original_name)
    stored_ext = os.path.splitext(att.stored_name)[1].lower()
    if ext.lower() == stored_ext or (stored_ext == ".jpg" and ext.lower() == ".jpeg"):
        return att.original_name
    return f"{att.original_name if not ext else stem}{stored_ext}"


def attachment_add(
    *, case: Case, by: Any, upload: Any, internal: bool = False, note: str = ""
) -> Attachment:
    """Store one file for the case. Guard: ``check_upload`` (detected type, size, image
    re-encoded). Event: ``attachment`` — or, with ``internal`` (the handling unit's 证据材料,
    never shown to the petitioner), ``evidence`` with the attachment id and ``note``."""
    checked = check_upload(upload)
    name = clean_name(upload.name or "")
    content = checked.content
    with transaction.atomic():
        att = Attachment(
            case=case,
            original_name=name,
            stored_name=secrets.token_hex(16) + checked.kind.ext,
            content_type=checked.kind.content_type,
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            uploaded_by=by,
            is_internal=internal,
        )
        att.file.save(att.stored_name, ContentFile(content), save=False)
        att.save()
        what = "证据材料" if internal else "附件"
        text = f"上传{what}「{att.original_name}」（{att.size}字节，{checked.kind.label}）"
        CaseEvent.objects.create(
            case=case,
            kind="evidence" if internal else "attachment",
            actor=by,
            actor_unit=case.handling_unit if internal else None,
            at=timezone.now(),
            from_status=case.status,
            to_status=case.status,
            text=f"{text}\n{note}" if note else text,
            data={"attachment_id": att.pk} if internal else {},
        )
    return att


def content_disposition(filename: str, fallback: str) -> str:
    """``attachment`` with an ASCII fallback and the RFC 5987/6266 UTF-8 ``filename*``."""
    filename = unicodedata.normalize("NFC", filename)
    ascii_name = "".join(ch for ch in fallback if 32 <= ord(ch) < 127 and ch not in '"\\;')
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def attachment_response(*, att: Attachment, by: Any, request: HttpRequest | None) -> FileResponse:
    """Stream the stored file as a download and write the ``download`` audit row.

    The caller has fetched ``att`` through ``cases_visible_to`` (outside the user's scope →
    404). The audit row is written before the first byte is sent (for a 检举控告 case also a
    ``reveal`` row: the same rule as showing its content); a missing file is a ``DomainError``
    (nothing audited)."""
    from xinfang.audit.services import audit_record

    try:
        handle = att.file.open("rb")
    except (FileNotFoundError, OSError):
        raise DomainError(
            f"附件「{att.original_name}」的文件在存储中不存在，请联系系统管理员", field="file"
        ) from None
    case = att.case
    with transaction.atomic():
        if case.is_confidential:
            # 检举控告: a download is a reveal of protected content (cases.confidential), audited
            # as one; the accused never get here (cases_visible_to excludes them: 404).
            audit_record(
                action="reveal",
                actor=by,
                obj=case,
                # No file name: names of files often carry a person's name or the matter
                # itself, and the audit log is read by the 审计员, who may not read cases.
                summary=f"查看检举控告附件：{case.number} 附件#{att.pk}",
                detail={"field": "attachment", "attachment": att.pk},
                request=request,
            )
        audit_record(
            action="download",
            actor=by,
            obj=att,
            summary=f"下载附件#{att.pk}（{case.number}）",
            detail={"case": case.number, "sha256": att.sha256, "size": att.size},
            request=request,
        )
    name = download_name(att)
    ext = os.path.splitext(att.stored_name)[1]
    response = FileResponse(handle, content_type=att.content_type)
    response["Content-Disposition"] = content_disposition(name, f"attachment-{att.pk}{ext}")
    response["Content-Length"] = str(att.size)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    # If a browser ever renders it inline anyway: no script, no plugins, a unique origin.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response
