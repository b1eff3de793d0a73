"""The auditor's pages: the log, newest first, with filters, and verifying the chain.

Only a 审计员 post (anywhere in the tree) opens them; for everyone else they do not exist (404),
like a case outside one's units. Reading the log is not itself recorded.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from xinfang.audit import checks, selectors
from xinfang.audit.chain import KIND_LABELS
from xinfang.audit.forms import AuditFilterForm
from xinfang.audit.services import ACTIONS
from xinfang.core.paging import paginate

PAGE_SIZE = 50


def _require_auditor(request: HttpRequest) -> None:
    if not selectors.is_auditor(request.user):
        raise Http404("页面不存在")


@login_required
@require_GET
def audit_list(request: HttpRequest) -> HttpResponse:
    _require_auditor(request)
    form = AuditFilterForm(request.GET or None)
    qs = selectors.entries(form.to_filter())
    page, query = paginate(request, qs, PAGE_SIZE)
    rows = list(page.object_list)
    for row in rows:
        row.action_label = ACTIONS.get(row.action, row.action)  # type: ignore[attr-defined]
    days = checks.retention_days()
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "query": query,
        "object_types": selectors.object_types(),
        "retention": f"至少保存 {days} 天" if days else "永久保存（不删除）",
    }
    template = "audit/_table.html" if request.headers.get("HX-Request") else "audit/list.html"
    return render(request, template, context)


@login_required
@require_POST
def audit_verify(request: HttpRequest) -> HttpResponse:
    _require_auditor(request)
    result = selectors.verify_chain()
    findings = [
        {"seq": f.seq, "kind": KIND_LABELS.get(f.kind, f.kind), "message": f.message}
        for f in result.report.findings
    ]
    context = {"result": result, "findings": findings}
    template = "audit/_verify.html" if request.headers.get("HX-Request") else "audit/verify.html"
    return render(request, template, context)
