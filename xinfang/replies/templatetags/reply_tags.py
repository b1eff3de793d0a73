"""``{% reply_panel case %}``: the 答复意见书 side panel of the case page (draft, approval,
check, serve), and ``{% final_banner case %}``: the 终结 banner of a repeat of a final case.
Template tags so the case detail view (owned by ``cases``) stays as it is."""

from __future__ import annotations

from typing import Any

from django import template

from xinfang.cases.models import Status
from xinfang.cases.policy import may_add_to_file
from xinfang.org import roles as R
from xinfang.org.policy import holds_role_over
from xinfang.replies import boilerplate as B
from xinfang.replies import services as RS
from xinfang.replies.forms import DraftForm, RejectForm, ServeForm
from xinfang.replies.models import DraftState as D

register = template.Library()


@register.inclusion_tag("replies/_panel.html", takes_context=True)
def reply_panel(context: Any, case: Any) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"show": False}
    draft = RS.live_draft(case) or RS.served_draft(case)
    if draft is None and case.status != Status.ACCEPTED:
        return {"show": False}
    unit_staff = holds_role_over(user, case.handling_unit, RS.UNIT)
    head = holds_role_over(user, case.handling_unit, {R.UNIT_HEAD})
    officer = holds_role_over(user, case.office_unit, {R.CASE_OFFICER})
    accepted = case.status == Status.ACCEPTED
    state = draft.state if draft else None
    forms = context.get("reply_forms") or {}
    tpl = B.template_for(draft.template if draft else case.purpose)
    may = {
        "save": accepted and unit_staff and state in (None, D.DRAFT),
        "submit": accepted and unit_staff and state == D.DRAFT,
        "approve": accepted and head and state == D.SUBMITTED,
        "reject": accepted
        and ((head and state == D.SUBMITTED) or (officer and state == D.APPROVED)),
        "check": accepted and officer and state == D.APPROVED,
        "serve": accepted and unit_staff and state == D.CHECKED,
    }
    initial = (
        RS.new_draft_values(case)
        if draft is None
        else {
            f: getattr(draft, f)
            for f in ("title", "facts", "basis", "decision", "extra", "review_organ")
        }
    )
    return {
        "show": True,
        "case": case,
        "draft": draft,
        "tpl": tpl,
        "opening": B.opening_for(case),
        "closing": B.LEGAL_PARAGRAPH.format(organ=draft.review_organ) if draft else "",
        "may": may,
        "may_read": may_add_to_file(user, case),
        "error": context.get("reply_error", ""),
        "draft_form": forms.get("save") or DraftForm(initial=initial, purpose=tpl.code),
        "reject_form": forms.get("reject") or RejectForm(),
        "serve_form": forms.get("serve") or ServeForm(),
        "open": next(iter(forms), ""),
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("replies/_final_banner.html", takes_context=True)
def final_banner(context: Any, case: Any) -> dict[str, Any]:
    from xinfang.cases.policy import cases_visible_to

    ev = case.events.filter(kind="final_repeat").first() if case.is_repeat else None
    request = context.get("request")
    user = getattr(request, "user", None)
    shown = bool(
        ev
        and user is not None
        and cases_visible_to(user).filter(pk=ev.data.get("final_case_id")).exists()
    )
    return {"ev": ev, "case": case, "number_visible": shown}
