"""Staff views about people: the audited reveal of a full ID number or phone (HTMX)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.html import format_html
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from xinfang.core.errors import DomainError
from xinfang.people.selectors import petitioner_in_view
from xinfang.people.services import petitioner_reveal


@never_cache  # Cache-Control: no-store (and no-cache, private): the value must not be kept
@login_required
@require_POST
def reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """``POST field=id_number|phone&case=<id>`` → the value as a fragment that replaces the
    masked cell. A person not on a case the user may see is a 404 (and nothing is audited)."""
    case_raw = request.POST.get("case", "")
    case_id = int(case_raw) if case_raw.isdigit() and len(case_raw) < 19 else None
    found = petitioner_in_view(request.user, pk, case_id=case_id)
    if found is None:
        raise Http404("未找到该信访人（不存在或不在您的权限范围内）")
    person, case = found
    try:
        value = petitioner_reveal(
            person=person,
            case=case,
            field=request.POST.get("field", ""),
            by=request.user,
            request=request,
        )
    except DomainError as exc:
        return HttpResponse(format_html('<span class="error">{}</span>', exc.message), status=400)
    return HttpResponse(
        format_html('<span class="revealed" title="已记入审计日志">{}</span>', value)
    )
