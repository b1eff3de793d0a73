"""Official documents (公文) of case events: metadata, the DOCX, issuing on first use.

``GET /documents/{doc_id}``, ``GET /documents/{doc_id}/docx``, ``POST /events/{event_id}/document``.
The same services as the staff views (``xinfang.documents``): a document is reached only
through its case (``policy.cases_visible_to``; otherwise 404) and every download is audited —
for a 检举控告 case also as a ``reveal``, as attachment downloads are.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, Router, Schema
from ninja.responses import Status as WithStatus

from xinfang.api.auth import current_user
from xinfang.api.errors import READ_ERRORS, WRITE_ERRORS, NotFound
from xinfang.documents import access
from xinfang.documents.models import IssuedDocument
from xinfang.documents.render import docx_response
from xinfang.documents.services import KIND_NAMES, document_for_event, spec_for

router = Router()

ISSUE_ERRORS = {status: shape for status, shape in WRITE_ERRORS.items() if status != 409}


class DocumentOut(Schema):
    id: int
    case_id: int
    case_number: str = Field(description="信访事项编号")
    event_id: int = Field(description="对应的事项动态")
    kind: str = Field(
        description="文种代码：assignment 交办单、forwarding 转送函、reply 答复意见书 …"
    )
    kind_label: str = Field(description="文种")
    number: str = Field(description="发文字号，如 区信访局交〔2026〕3号")
    title: str
    issuing_unit: str = Field(description="发文机关")
    issued_at: dt.datetime
    issued_by: str | None = None
    print_url: str = Field(description="打印页面（HTML）")
    docx_url: str = Field(description="DOCX 下载")


def _out(doc: IssuedDocument) -> dict[str, Any]:
    by = doc.issued_by
    return {
        "id": doc.pk,
        "case_id": doc.case_id,
        "case_number": doc.case.number,
        "event_id": doc.event_id,
        "kind": doc.kind,
        "kind_label": KIND_NAMES.get(doc.kind, doc.kind),
        "number": doc.number,
        "title": doc.title,
        "issuing_unit": doc.issuing_unit.name,
        "issued_at": doc.issued_at,
        "issued_by": (by.get_full_name() or by.username) if by is not None else None,
        "print_url": reverse("documents_print", args=[doc.pk]),
        "docx_url": reverse("api:document_docx", args=[doc.pk]),
    }


def _document(request: HttpRequest, doc_id: int) -> IssuedDocument:
    doc = access.visible_document(current_user(request), doc_id)
    if doc is None:
        raise NotFound("未找到该公文（不存在或不在您的权限范围内）")
    return doc


@router.get(
    "/documents/{doc_id}",
    response={200: DocumentOut, **READ_ERRORS},
    tags=["公文"],
    summary="公文信息",
    operation_id="document_get",
    description=(
        "发文字号、标题、发文机关等（不含正文）。公文所属事项不在您的权限范围内时返回 404。"
    ),
)
def document_get(request: HttpRequest, doc_id: int) -> Any:
    return _out(_document(request, doc_id))


@router.get(
    "/documents/{doc_id}/docx",
    response={200: None, **READ_ERRORS},
    tags=["公文"],
    summary="下载公文 DOCX",
    operation_id="document_docx",
    url_name="document_docx",
    description=(
        "按 GB/T 9704-2012 排版的 DOCX（A4，页边距上37/下35/左28/右26毫米，每页22行×28字）。"
        "每次下载写入审计日志（下载公文）；检举控告件同时记为「查看完整信息」。"
    ),
    openapi_extra={
        "responses": {
            200: {
                "description": "DOCX 文件",
                "content": {
                    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": {
                        "schema": {"type": "string", "format": "binary"}
                    }
                },
            }
        }
    },
)
def document_docx(request: HttpRequest, doc_id: int) -> Any:
    doc = _document(request, doc_id)
    access.record_access(doc, by=current_user(request), action="document_download", request=request)
    return docx_response(doc)


@router.post(
    "/events/{event_id}/document",
    response={200: DocumentOut, 201: DocumentOut, **ISSUE_ERRORS},
    tags=["公文"],
    summary="生成事项动态对应的公文",
    operation_id="document_issue",
    description=(
        "为一条事项动态（交办、转送、答复、督办、催办、复查、复核、延期告知、告知）生成公文："
        "首次调用编发文字号（按机关代字、文种、年份连续编号）并固定正文，返回 **201**；"
        "再次调用返回同一公文（**200**）。该动态没有对应文种时返回 400（`field` 为 `event`）。"
    ),
)
def document_issue(request: HttpRequest, event_id: int) -> Any:
    user = current_user(request)
    event = access.visible_event(user, event_id)
    if event is None:
        raise NotFound("未找到该事项动态（不存在或不在您的权限范围内）")
    existed = (
        spec_for(event.kind) is not None and IssuedDocument.objects.filter(event=event).exists()
    )
    doc = document_for_event(event, by=user)
    doc = IssuedDocument.objects.select_related("case", "issuing_unit", "issued_by").get(pk=doc.pk)
    return WithStatus(200 if existed else 201, _out(doc))
