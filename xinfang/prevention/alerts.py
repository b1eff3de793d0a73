"""Raising an alert (预警): the one entry point the rule sweep (``warning.py``), informant urgent
reports (``informants.py``) and anything else call. Acknowledging and closing live in
``warning.py``.

``alert_raise`` is idempotent by ``dedupe_key`` (a unique index, not a read-then-write): a sweep
run twice, two sweeps at once, or a retried request raise one alert. New alerts are put in the
inbox of the owner, the leaders over the unit and the case officers of the petition office that
serves it (orange/red also by e-mail).
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from xinfang.org import roles as R
from xinfang.org.models import Unit
from xinfang.prevention.models import Alert, AlertEvent, AlertState, Severity


def office_for(unit: Unit) -> Unit | None:
    """The petition office serving ``unit``: the unit itself if it is one, else the nearest
    ancestor that is one, else a petition office that is a direct child of the nearest
    ancestor (the district's 区信访局 beside its departments)."""
    node: Unit | None = unit
    while node is not None:
        if node.is_petition_office:
            return node
        child = (
            Unit.objects.filter(parent=node, is_petition_office=True, is_active=True)
            .order_by("id")
            .first()
        )
        if child is not None:
            return child
        node = node.parent
    return None


_RECIPIENTS: contextvars.ContextVar[dict[int, list[Any]] | None] = contextvars.ContextVar(
    "xf_alert_recipients", default=None
)


@contextlib.contextmanager
def recipient_cache() -> Iterator[None]:
    """Within the block, who is told about a unit's alerts is looked up once per unit (the
    sweep raises thousands of alerts over a few hundred units)."""
    token = _RECIPIENTS.set({})
    try:
        yield
    finally:
        _RECIPIENTS.reset(token)


def _unit_recipients(unit: Unit) -> list[Any]:
    from xinfang.notify.services import leaders_over, unit_staff

    cache = _RECIPIENTS.get()
    if cache is not None and unit.pk in cache:
        return cache[unit.pk]
    people: dict[int, Any] = {u.pk: u for u in leaders_over(unit)}
    office = office_for(unit)
    if office is not None:
        for u in unit_staff(office, {R.CASE_OFFICER}):
            people[u.pk] = u
    found = list(people.values())
    if cache is not None:
        cache[unit.pk] = found
    return found


def alert_recipients(unit: Unit, owner: Any = None, case: Any = None) -> list[Any]:
    """The owner, the leaders over the unit and the case officers of the office serving it;
    for an alert about a 检举控告 ``case``, none of the accused (``accused_user_ids``)."""
    people: dict[int, Any] = {owner.pk: owner} if owner is not None else {}
    for u in _unit_recipients(unit):
        people.setdefault(u.pk, u)
    if case is not None and case.is_confidential:
        from xinfang.notify.services import accused_user_ids

        for pk in accused_user_ids(case, people):
            people.pop(pk, None)
    return list(people.values())


def _owner_for_secret(case: Any, unit: Unit, owner: Any) -> Any:
    """A 检举控告 alert's owner is never one of the accused: else the first leader over the
    unit who is not, else nobody."""
    from xinfang.notify.services import accused_user_ids, leaders_over

    if owner is not None and not accused_user_ids(case, [owner.pk]):
        return owner
    leaders = list(leaders_over(unit).order_by("id"))
    barred = accused_user_ids(case, [u.pk for u in leaders])
    return next((u for u in leaders if u.pk not in barred), None)


def default_owner(unit: Unit) -> Any:
    """Who owns an alert nobody was named for: the first leader over the unit."""
    from xinfang.notify.services import leaders_over

    return leaders_over(unit).order_by("id").first()


def alert_raise(
    *,
    rule: str,
    severity: str,
    unit: Unit,
    title: str,
    dedupe_key: str,
    detail: str = "",
    data: dict[str, Any] | None = None,
    owner: Any = None,
    case: Any = None,
    dispute: Any = None,
    informant_report: Any = None,
    group: Any = None,
    at: dt.datetime | None = None,
    notify_now: bool = True,
) -> tuple[Alert, bool]:
    """Raise once per ``dedupe_key``; returns (alert, created)."""
    existing = Alert.objects.filter(dedupe_key=dedupe_key[:150]).first()
    if existing is not None:
        return existing, False
    now = at or timezone.now()
    owner = owner or default_owner(unit)
    if case is not None and case.is_confidential:
        owner = _owner_for_secret(case, unit, owner)
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                rule=rule,
                severity=severity,
                unit=unit,
                title=title[:200],
                detail=detail,
                data=data or {},
                dedupe_key=dedupe_key[:150],
                owner=owner,
                raised_at=now,
                case=case,
                dispute=dispute,
                informant_report=informant_report,
                group=group,
            )
            AlertEvent.objects.create(
                alert=alert, kind="raise", at=now, text=detail[:500], data={"rule": rule}
            )
    except IntegrityError:
        return Alert.objects.get(dedupe_key=dedupe_key[:150]), False
    if notify_now:
        from xinfang.notify.services import notify

        notify(
            alert_recipients(unit, owner, case),
            kind="alert",
            title=f"【{alert.get_severity_display()}预警】{alert.title}",
            body=detail[:500],
            url=f"/prevention/alerts/{alert.pk}/",
            dedupe_key=f"alert-{alert.pk}",
            email=severity in (Severity.ORANGE, Severity.RED),
            at=now,
        )
    return alert, True


def alerts_follow_report(
    report: Any, *, state: str, by: Any, at: dt.datetime, text: str = ""
) -> int:
    """Move the alerts of an informant report with it (acknowledged → ``ack``, closed →
    ``close``): a conditional UPDATE per alert and an ``AlertEvent`` for each one moved."""
    moved = 0
    qs = Alert.objects.filter(informant_report=report)
    for alert_id in list(qs.exclude(state=AlertState.CLOSED).values_list("id", flat=True)):
        if state == AlertState.ACKNOWLEDGED:
            done = Alert.objects.filter(pk=alert_id, state=AlertState.OPEN).update(
                state=AlertState.ACKNOWLEDGED, acknowledged_by=by, acknowledged_at=at
            )
            kind, note = "ack", text or "信息员报告已确认"
        else:
            done = (
                Alert.objects.filter(pk=alert_id)
                .exclude(state=AlertState.CLOSED)
                .update(state=AlertState.CLOSED, outcome=text, closed_by=by, closed_at=at)
            )
            Alert.objects.filter(pk=alert_id, acknowledged_at__isnull=True).update(
                acknowledged_by=by, acknowledged_at=at
            )
            kind, note = "close", text
        if done:
            AlertEvent.objects.create(alert_id=alert_id, kind=kind, actor=by, at=at, text=note)
            moved += 1
    return moved
