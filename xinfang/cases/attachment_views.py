"""``GET /cases/<case_id>/attachments/<att_id>``: the only way a stored file leaves the server.

The case is fetched through ``policy.cases_visible_to`` (another unit's case, or an attachment
of another case, is a 404); the file is streamed as a download and the download is audited
(``xinfang.cases.attachments.attachment_response``). ``MEDIA_URL`` is never routed.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponseBase
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from xinfang.cases import policy
from xinfang.cases.attachments import attachment_response
from xinfang.cases.models import Attachment
from xinfang.core.errors import DomainError


@login_required
@require_GET
def attachment_download(request: HttpRequest, pk: int, att_id: int) -> HttpResponseBase:
    case = get_object_or_404(policy.cases_visible_to(request.user), pk=pk)
    att = get_object_or_404(Attachment.objects.select_related("case"), pk=att_id, case=case)
    try:
        return attachment_response(att=att, by=request.user, request=request)
    except DomainError as exc:
        raise Http404(exc.message) from None
