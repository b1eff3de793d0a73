"""What notify does when a case is routed (``cases.signals.case_routed``): the new handling
unit's 承办人 and 单位负责人 get an inbox message and an e-mail (kind ``assignment``).

Connected from :meth:`xinfang.notify.apps.NotifyConfig.ready`; runs after the routing commit in
its own savepoint (``cases.signals.isolated``), so a failure never undoes the routing. The
dedupe key is the routing event, so a repeated signal notifies nobody twice.
"""

from __future__ import annotations

from typing import Any

from xinfang.cases.models import CaseEvent
from xinfang.notify.services import case_label, notify, unit_staff

ACTION_WORD = {"assign": "交办", "forward": "转送"}


def notify_routed(
    sender: Any, case: Any, unit: Any, by: Any, action: str, at: Any = None, **kwargs: Any
) -> None:
    event = (
        CaseEvent.objects.filter(case=case, kind=action, at=at).order_by("-id").first()
        if at is not None
        else None
    )
    key = f"assignment:{event.pk}" if event is not None else f"assignment:{case.pk}:{action}:{at}"
    word = ACTION_WORD.get(action, "交办")
    due = (
        case.deadlines.filter(kind="accept", met_at__isnull=True, cancelled_at__isnull=True)
        .values_list("due_on", flat=True)
        .first()
    )
    body = f"{case.office_unit.name}{word}事项 {case_label(case)}，请及时签收办理。"
    if due is not None:
        body += f"受理告知期限：{due:%Y-%m-%d}。"
    notify(
        unit_staff(unit),
        kind="assignment",
        title=f"新{word}事项：{case_label(case)}",
        body=body,
        case=case,
        dedupe_key=key,
        email=True,
        at=at,
    )


def connect() -> None:
    from xinfang.cases.signals import case_routed, isolated

    case_routed.connect(isolated(notify_routed), weak=False, dispatch_uid="notify_routed")
