"""``{% document_links e %}``: the 公文 links of one timeline row (hook _hooks_event.html).

Only for event kinds that have a document (``services.DOCUMENT_KINDS``). Issued documents of
the case are read once per request (one query for the whole timeline); an event without its
document yet gets POST buttons that issue it on first use.
"""

from __future__ import annotations

from typing import Any

from django import template

from xinfang.documents.models import IssuedDocument
from xinfang.documents.services import spec_for

register = template.Library()


def _issued(request: Any, case_id: int) -> dict[int, int]:
    cache: dict[int, dict[int, int]] | None = getattr(request, "_xf_documents", None)
    if cache is None:
        cache = {}
        if request is not None:
            request._xf_documents = cache
    if case_id not in cache:
        cache[case_id] = dict(
            IssuedDocument.objects.filter(case_id=case_id).values_list("event_id", "pk")
        )
    return cache[case_id]


@register.inclusion_tag("documents/_event_links.html", takes_context=True)
def document_links(context: Any, event: Any) -> dict[str, Any]:
    if getattr(event, "kind", "") == "register":  # 登记回执 (documents/receipt.py)
        return {"spec": None, "receipt_case": event.case_id}
    spec = spec_for(getattr(event, "kind", ""))
    if spec is None:
        return {"spec": None}
    doc_id = _issued(context.get("request"), event.case_id).get(event.pk)
    return {
        "spec": spec,
        "event": event,
        "doc_id": doc_id,
        "csrf_token": context.get("csrf_token"),
    }
