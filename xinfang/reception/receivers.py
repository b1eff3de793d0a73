"""Signal receivers of the reception app (connected in ``apps.ready``).

- ``desk_case_registered`` (inside the registration transaction): link the desk visit and/or
  the leader-day booking the case was registered from.
- ``case_registered`` (after commit): 集体访 → alert the on-duty leaders at once.
"""

from __future__ import annotations

import logging
from typing import Any

from django.utils import timezone

from xinfang.cases.signals import case_registered, desk_case_registered, isolated

log = logging.getLogger(__name__)


def link_desk_visit(
    sender: Any, *, case: Any, visit_id: Any = None, by: Any = None, **kw: Any
) -> None:
    from xinfang.reception import services as S

    if isinstance(visit_id, int):
        S.visit_link_case(visit_id=visit_id, case=case, by=by)
    booking_id = kw.get("booking_id")
    if isinstance(booking_id, int):
        S.booking_link_registered(booking_id=booking_id, case=case)


def collective_alert(sender: Any, *, case: Any, **kwargs: Any) -> None:
    """集体访: notify the office's on-duty leaders (in-app at once + e-mail), once per case,
    and record who was alerted on the timeline (``collective_alert``, internal)."""
    from xinfang.cases.models import CaseEvent, Channel
    from xinfang.notify.services import notify
    from xinfang.reception.duty import on_duty_leaders

    if not (case.is_collective or case.channel == Channel.COLLECTIVE_VISIT):
        return
    if CaseEvent.objects.filter(case=case, kind="collective_alert").exists():
        return
    now = timezone.now()
    from xinfang.cases.policy import cases_visible_to

    # only leaders the case exists for (检举控告: never the accused — notify drops them too, and
    # the timeline row must not claim they were alerted)
    leaders = [
        u
        for u in on_duty_leaders(case.office_unit, timezone.localdate())
        if cases_visible_to(u).filter(pk=case.pk).exists()
    ]
    what = case.group.name if getattr(case, "group", None) else case.summary
    what = what if len(what) <= 30 else what[:30] + "…"
    sent = notify(
        leaders,
        kind="collective_visit",
        title=f"集体访：{what} {case.headcount}人",
        case=case,
        dedupe_key=f"collective:{case.pk}",
        email=True,
        at=now,
    )
    names = [u.get_full_name() or u.username for u in leaders]
    CaseEvent.objects.create(
        case=case,
        kind="collective_alert",
        actor=None,
        actor_unit=case.office_unit,
        at=now,
        from_status=case.status,
        to_status=case.status,
        text="已提醒值班领导：" + ("、".join(names) if names else "（无可提醒的领导）"),
        data={"leader_ids": [u.pk for u in leaders], "notified": sent},
    )


desk_case_registered.connect(
    isolated(link_desk_visit), weak=False, dispatch_uid="reception_link_desk_visit"
)
case_registered.connect(
    isolated(collective_alert), weak=False, dispatch_uid="reception_collective_alert"
)
