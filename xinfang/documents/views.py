"""Staff views of issued documents (公文).

- ``/documents/<id>/``: the print HTML (GB/T 9704 layout, a 打印 button);
- ``/documents/<id>/docx`` (also ``/documents/<id>.docx``): the DOCX download;
- ``/documents/event/<event_id>/``: GET shows the event's document (or what would be issued),
  POST (CSRF) issues it on first use and opens it.

Every document is reached through its case (``policy.cases_visible_to``; otherwise 404) and
every print and download is audited (``access.record_access``). For a 检举控告 case the content
is shown only by an explicit POST — like the detail page's reveal, never by a plain link a
browser might prefetch — and audited as a ``reveal`` as well.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods

from xinfang.cases.policy import cases_visible_to
from xinfang.documents import access, receipt
from xinfang.documents.models import IssuedDocument
from xinfang.documents.render import DOCX_TYPE, docx_response, no_store, print_response
from xinfang.documents.services import document_for_event, spec_for


def _document(request: HttpRequest, pk: int) -> IssuedDocument:
    doc = access.visible_document(request.user, pk)
    if doc is None:
        raise Http404
    return doc


def _confirm(request: HttpRequest, doc: IssuedDocument, fmt: str) -> HttpResponse:
    """A 检举控告 case's document: no content until the user confirms (POST, audited)."""
    return no_store(
        render(request, "documents/confirm.html", {"doc": doc, "case": doc.case, "format": fmt})
    )


def _open(request: HttpRequest, doc: IssuedDocument, fmt: str) -> HttpResponse:
    if fmt == "docx":
        access.record_access(doc, by=request.user, action="document_download", request=request)
        return docx_response(doc)
    access.record_access(doc, by=request.user, action="document_print", request=request)
    return print_response(request, doc)


@login_required
@require_http_methods(["GET", "POST"])
def document_print(request: HttpRequest, pk: int) -> HttpResponse:
    doc = _document(request, pk)
    if doc.case.is_confidential and request.method != "POST":
        return _confirm(request, doc, "print")
    return _open(request, doc, "print")


@login_required
@require_http_methods(["GET", "POST"])
def document_docx(request: HttpRequest, pk: int) -> HttpResponse:
    doc = _document(request, pk)
    if doc.case.is_confidential and request.method != "POST":
        return _confirm(request, doc, "docx")
    return _open(request, doc, "docx")


@login_required
@require_http_methods(["GET", "POST"])
def document_event(request: HttpRequest, event_id: int) -> HttpResponseBase:
    event = access.visible_event(request.user, event_id)
    spec = spec_for(event.kind) if event is not None else None
    if event is None or spec is None:
        raise Http404
    fmt = "docx" if request.POST.get("format") == "docx" else "print"
    if request.method == "POST":
        doc = document_for_event(event, by=request.user)
        if doc.case.is_confidential:
            return _open(request, doc, fmt)  # this POST is the confirmation
        return redirect("documents_docx" if fmt == "docx" else "documents_print", pk=doc.pk)
    issued = IssuedDocument.objects.filter(event=event).first()
    if issued is not None:
        return redirect("documents_print", pk=issued.pk)
    return render(
        request, "documents/issue.html", {"event": event, "case": event.case, "spec": spec}
    )


@login_required
@require_http_methods(["GET"])
def receipt_view(request: HttpRequest, pk: int) -> HttpResponse:
    """登记回执 of case ``pk`` (print HTML; ``?format=docx`` the DOCX). Through
    ``cases_visible_to`` (404 otherwise); every print/download is audited. No confidential
    content is printed (``receipt.receipt_data``), so a plain GET is enough."""
    case = (
        cases_visible_to(request.user)
        .select_related("office_unit", "registered_by")
        .filter(pk=pk)
        .first()
    )
    if case is None:
        raise Http404
    data = receipt.receipt_data(case)
    fmt = "docx" if request.GET.get("format") == "docx" else "print"
    access.record_receipt(case, by=request.user, fmt=fmt, request=request)
    if fmt == "docx":
        response = HttpResponse(receipt.receipt_docx(data), content_type=DOCX_TYPE)
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=f"{case.number}登记回执.docx"
        )
        return no_store(response)
    context = {
        "case": case,
        "r": data,
        "rows": receipt.receipt_lines(data),
        "qr": mark_safe(receipt.qr_svg(data["url"])),  # segno's own SVG markup
        "tracking": receipt.tracking_text(data),
    }
    return no_store(render(request, "documents/receipt.html", context))
