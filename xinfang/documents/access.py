"""Who reaches an issued document, and the audit of every print and download.

A document is reached only through its case: ``policy.cases_visible_to`` (another unit's case,
or a 检举控告 case the user is accused in, is a 404). Showing a document prints the case's
content; for a 检举控告 case that is a reveal of protected content (``cases.confidential``), so
it is written as a ``reveal`` audit row as well — the same rule as the detail page's reveal and
attachment downloads (``cases.attachments.attachment_response``).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest

from xinfang.cases.models import CaseEvent
from xinfang.cases.policy import cases_visible_to
from xinfang.documents.models import IssuedDocument

ACTION_WORDS = {"document_print": "打印", "document_download": "下载"}


def visible_document(user: Any, pk: int) -> IssuedDocument | None:
    doc = (
        IssuedDocument.objects.select_related("case", "issuing_unit", "event").filter(pk=pk).first()
    )
    if doc is None or not cases_visible_to(user).filter(pk=doc.case_id).exists():
        return None
    return doc


def visible_event(user: Any, event_id: int) -> CaseEvent | None:
    event = CaseEvent.objects.select_related("case").filter(pk=event_id).first()
    if event is None or not cases_visible_to(user).filter(pk=event.case_id).exists():
        return None
    return event


def record_access(
    doc: IssuedDocument, *, by: Any, action: str, request: HttpRequest | None = None
) -> None:
    """Audit one print (``document_print``) or download (``document_download``); for a 检举控告
    case first a ``reveal`` row. Written before the document is sent."""
    from xinfang.audit.services import audit_record

    case = doc.case
    with transaction.atomic():
        if case.is_confidential:
            audit_record(
                action="reveal",
                actor=by,
                obj=case,
                # No title or content: the audit log is read by the 审计员, who may not read cases.
                summary=f"查看检举控告公文：{case.number} 公文#{doc.pk}",
                detail={"field": "document", "document": doc.pk},
                request=request,
            )
        audit_record(
            action=action,
            actor=by,
            obj=doc,
            summary=f"{ACTION_WORDS[action]}公文 {doc.number}（{case.number}）",
            detail={"case": case.number, "number": doc.number, "kind": doc.kind},
            request=request,
        )


def record_receipt(case: Any, *, by: Any, fmt: str, request: HttpRequest | None = None) -> None:
    """Audit one print (``document_print``) or DOCX download of a case's 登记回执."""
    from xinfang.audit.services import audit_record

    action = "document_download" if fmt == "docx" else "document_print"
    with transaction.atomic():
        audit_record(
            action=action,
            actor=by,
            obj=case,
            summary=f"{ACTION_WORDS[action]}登记回执（{case.number}）",
            detail={"case": case.number, "kind": "receipt"},
            request=request,
        )
