"""Reception panels on other apps' pages: the case page side panel (包案), the start page
section (a leader's 我包案的事项 and upcoming reception days). Each tag does its own queries and
access checks, so the case and home views stay as they are."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

register = template.Library()
HOME_ROWS = 10


def _user(context: Any) -> Any:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    return user


@register.inclusion_tag("reception/_panel.html", takes_context=True)
def reception_panel(context: Any, case: Any) -> dict[str, Any]:
    from xinfang.org import roles as R
    from xinfang.org.policy import holds_role_over
    from xinfang.reception import services as S
    from xinfang.reception.forms import OwnerForm

    user = _user(context)
    if user is None or case is None:
        return {"show": False}
    owner = S.active_owner(case)
    is_officer = holds_role_over(user, case.office_unit, {R.CASE_OFFICER})
    form = None
    self_only = False
    if owner is None and S.may_assign_owner(user, case):
        if is_officer:
            leaders = S.owner_choices(case)
        else:
            leaders, self_only = [user], True
        if leaders:
            form = OwnerForm(leaders=leaders)
    may_end = owner is not None and (owner.leader_id == user.pk or is_officer)
    visits = list(case.desk_visits.order_by("-day")[:3])
    bookings = list(case.leader_bookings.select_related("day").order_by("-day__date")[:3])
    return {
        "show": bool(owner or form or visits or bookings),
        "case": case,
        "owner": owner,
        "form": form,
        "self_only": self_only,
        "may_end": may_end,
        "visits": visits,
        "bookings": bookings,
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("reception/_home.html", takes_context=True)
def reception_home(context: Any) -> dict[str, Any]:
    from xinfang.cases import deadlines
    from xinfang.org import roles as R
    from xinfang.org.policy import role_codes
    from xinfang.reception import services as S
    from xinfang.reception.models import DayState, ReceptionDay
    from xinfang.reception.views import owned_rows

    user = _user(context)
    if user is None or R.LEADER not in role_codes(user):
        return {"show": False}
    owned = S.owned_cases(user)
    total = owned.count()
    rows = owned_rows(
        user, list(owned.select_related("handling_unit").order_by("-received_at")[:HOME_ROWS])
    )
    overdue = deadlines.filter_deadline_state(
        owned, deadlines.OVERDUE, timezone.localdate()
    ).count()
    days = list(
        ReceptionDay.objects.filter(
            leader=user, state=DayState.PLANNED, date__gte=timezone.localdate()
        ).order_by("date", "start_time")[:5]
    )
    return {"show": True, "rows": rows, "total": total, "overdue": overdue, "days": days}
