"""``{% progress_notice_panel case %}``: the 告知信访人 side panel of the case page (the 进展告知
form for those who may send one, and the messages sent so far). A template tag, so the case
view stays as it is; the rule lives in :func:`xinfang.notify.petitioner.may_send_progress`."""

from __future__ import annotations

from typing import Any

from django import template

from xinfang.notify.forms import ProgressNoticeForm
from xinfang.notify.models import OutboundMessage
from xinfang.notify.petitioner import may_send_progress

register = template.Library()
SHOWN = 5


def progress_context(
    user: Any, case: Any, form: ProgressNoticeForm | None = None
) -> dict[str, Any]:
    may_send = may_send_progress(user, case)
    return {
        "case": case,
        "may_send": may_send,
        "form": form or ProgressNoticeForm(),
        "sent": list(
            OutboundMessage.objects.filter(case=case).order_by("-created_at", "-id")[:SHOWN]
        ),
    }


@register.inclusion_tag("notify/_progress_panel.html", takes_context=True)
def progress_notice_panel(context: dict[str, Any], case: Any) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"case": case, "may_send": False, "sent": []}
    out = progress_context(user, case)
    out["csrf_token"] = context.get("csrf_token")
    if not out["may_send"] and not out["sent"]:
        out["hidden"] = True
    return out
