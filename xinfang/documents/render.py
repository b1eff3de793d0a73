"""Print HTML and DOCX responses of an issued document (both from ``IssuedDocument.body``)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control
from django.utils.http import content_disposition_header

from xinfang.documents.models import IssuedDocument
from xinfang.documents.wordfile import render_docx

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def no_store(response: HttpResponse) -> HttpResponse:
    patch_cache_control(response, no_store=True, no_cache=True, private=True, max_age=0)
    return response


def paragraphs(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Body paragraphs for the template: a heading line, then one line per text line."""
    rows: list[dict[str, Any]] = []
    for item in body.get("paragraphs", []):
        if item.get("heading"):
            rows.append({"level": int(item.get("level") or 1), "text": item["heading"]})
        for line in str(item.get("text", "")).splitlines():
            if line.strip():
                rows.append({"level": 0, "text": line.strip()})
    return rows


def print_response(request: HttpRequest, doc: IssuedDocument) -> HttpResponse:
    body = doc.body
    context = {
        "doc": doc,
        "case": doc.case,
        "body": body,
        "rows": paragraphs(body),
    }
    return no_store(render(request, "documents/print.html", context))


def docx_filename(doc: IssuedDocument) -> str:
    return f"{doc.number}{doc.body.get('doc_type', '')}.docx"


def docx_response(doc: IssuedDocument) -> HttpResponse:
    response = HttpResponse(render_docx(doc.body), content_type=DOCX_TYPE)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=docx_filename(doc)
    )
    return no_store(response)
