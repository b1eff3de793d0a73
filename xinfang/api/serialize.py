"""Cases, rows, events and attachments as the plain dicts the response schemas describe.

Times are shown in local time, codes travel with their Chinese label (``{"code", "label"}``),
people are masked, and a related case number appears only when the reader may see that case.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from xinfang.api.access import case_or_404, visible
from xinfang.api.auth import current_user
from xinfang.cases import deadlines
from xinfang.cases.confidential import mask_name, search_guard, shown_name, shown_summary
from xinfang.cases.models import (
    OBLIGATION_KINDS,
    Attachment,
    Case,
    CaseEvent,
    CasePetitioner,
    Deadline,
    DeadlineKind,
    Evaluation,
    ExtensionRequest,
    PetitionerRole,
    Status,
)
from xinfang.cases.policy import allowed_actions
from xinfang.cases.transitions import EVENT_LABELS
from xinfang.org.models import Unit
from xinfang.people.models import IdType, Petitioner


def local(moment: dt.datetime | None) -> dt.datetime | None:
    return timezone.localtime(moment) if moment is not None else None


def code_label(code: str, label: str) -> dict[str, str]:
    return {"code": code, "label": label}


def status(code: str | None) -> dict[str, str] | None:
    if not code:
        return None
    try:
        return code_label(code, Status(code).label)
    except ValueError:
        return code_label(code, code)


def deadline_state(next_due: dt.date | None, today: dt.date) -> dict[str, str]:
    state = deadlines.state_of(next_due, today)
    return code_label(state, deadlines.STATE_LABELS[state])


def unit(unit: Unit | None) -> dict[str, Any] | None:
    return {"id": unit.pk, "name": unit.name} if unit is not None else None


def person_name(user: Any) -> str:
    return (user.get_full_name() or user.username) if user is not None else ""


# 合并/关联 events name the other case: shown only when the reader can see it (cases.handling).
OTHER_CASE_KEYS = {
    "link": ("other_id", "other_number"),
    "merge": ("into_id", "into_number"),
    "merge_in": ("from_id", "from_number"),
}


def event(
    ev: CaseEvent,
    *,
    show_repeat_of: bool,
    visible_matches: frozenset[int] = frozenset(),
    visible_others: frozenset[int] | None = None,
) -> dict[str, Any]:
    data = dict(ev.data or {})
    keys = OTHER_CASE_KEYS.get(ev.kind)
    if keys and visible_others is not None and data.get(keys[0]) not in visible_others:
        data[keys[0]] = data[keys[1]] = None
    if "repeat_of" in data and not show_repeat_of:
        data["repeat_of"] = None  # another unit's case number is not ours to show
    if "final_number" in data and not show_repeat_of:
        data["final_number"] = data["final_case_id"] = None  # final_repeat: same rule
    if "matched_number" in data and data.get("matched_case_id") not in visible_matches:
        # near_duplicate: same rule; the group too, which would link the case to the others
        data["matched_number"] = data["matched_case_id"] = data["group_id"] = None
    return {
        "id": ev.pk,
        "kind": ev.kind,
        "label": EVENT_LABELS.get(ev.kind, ev.kind),
        "actor": person_name(ev.actor) or None,
        "unit": unit(ev.actor_unit),
        "at": local(ev.at),
        "from_status": status(ev.from_status),
        "to_status": status(ev.to_status),
        "text": ev.text,
        "data": data,
    }


def attachment(att: Attachment, *, masked: bool = False) -> dict[str, Any]:
    """Metadata only: the stored name and path never leave the server. ``masked``: a 检举控告
    case's file name may name the accused; shown only after the reveal."""
    return {
        "id": att.pk,
        "name": "（检举控告件附件，名称保密）" if masked else att.original_name,
        "size": att.size,
        "content_type": att.content_type,
        "sha256": att.sha256,
        "uploaded_at": local(att.uploaded_at),
    }


def case_row(case: Case, person: Petitioner | None, today: dt.date) -> dict[str, Any]:
    """One row of the case list; ``case`` comes annotated with ``next_due``."""
    next_due = getattr(case, "next_due", None)
    return {
        "id": case.pk,
        "number": case.number,
        "status": status(case.status),
        "channel": code_label(case.channel, case.get_channel_display()),
        "purpose": code_label(case.purpose, case.get_purpose_display()),
        "summary": shown_summary(case),
        "is_confidential": case.is_confidential,
        "received_at": local(case.received_at),
        "handling_unit": unit(case.handling_unit),
        "deadline_state": deadline_state(next_due, today),
        "next_due": next_due,
        "first_petitioner": (
            {
                "name": shown_name(case, person.name),
                "id_masked": "" if case.is_confidential else person.id_masked,
                "phone_masked": "" if case.is_confidential else person.phone_masked,
            }
            if person
            else None
        ),
    }


def _parties(case: Case, *, masked: bool = False) -> list[dict[str, Any]]:
    """The people of the case; ``masked`` (a 检举控告 case before its audited reveal): the
    name as 张**, no ID or phone fragments."""
    return [
        {
            "petitioner_id": link.petitioner.pk,
            "name": mask_name(link.petitioner.name) if masked else link.petitioner.name,
            "role": code_label(link.role, PetitionerRole(link.role).label),
            "id_type": code_label(link.petitioner.id_type, IdType(link.petitioner.id_type).label),
            "id_masked": "" if masked else link.petitioner.id_masked,
            "phone_masked": "" if masked else link.petitioner.phone_masked,
            "sex": "" if masked else link.petitioner.sex,
            "age_band": "" if masked else link.petitioner.age_band,
        }
        for link in CasePetitioner.objects.filter(case=case).select_related("petitioner")
    ]


def _open_deadlines(case: Case, today: dt.date) -> list[dict[str, Any]]:
    return [
        {
            "kind": code_label(d.kind, DeadlineKind(d.kind).label),
            "started_on": d.started_on,
            "due_on": d.due_on,
            "state": deadline_state(d.due_on, today),
            "obligation": d.kind in OBLIGATION_KINDS,
            "paused": d.paused,
        }
        for d in Deadline.objects.filter(
            case=case, met_at__isnull=True, cancelled_at__isnull=True
        ).order_by("due_on", "id")
    ]


def detail(request: HttpRequest, case: Case) -> dict[str, Any]:
    """The whole case as this request's user may see it (``case`` annotated with ``next_due``)."""
    user = current_user(request)
    today = timezone.localdate()
    related_number = None
    if case.related_to_id is not None:
        related_number = (
            visible(request).filter(pk=case.related_to_id).values_list("number", flat=True).first()
        )
    related_visible = related_number is not None
    rows = list(CaseEvent.objects.filter(case=case).select_related("actor", "actor_unit"))
    # A near-duplicate link is a text match: shown only where a search by this user could match
    # both texts (``confidential.search_guard``) — else a 检举控告 case's link to a public copy
    # would tell a reader outside its registering office's desk what the accusation says.
    matched = {ev.data.get("matched_case_id") for ev in rows if ev.kind == "near_duplicate"}
    guarded = visible(request).filter(search_guard(user))
    visible_matches = frozenset(
        guarded.filter(pk__in=[m for m in matched if m]).values_list("pk", flat=True)
        if matched and (not case.is_confidential or guarded.filter(pk=case.pk).exists())
        else ()
    )
    others = {ev.data.get(OTHER_CASE_KEYS[ev.kind][0]) for ev in rows if ev.kind in OTHER_CASE_KEYS}
    visible_others = frozenset(
        visible(request).filter(pk__in=[o for o in others if o]).values_list("pk", flat=True)
        if others
        else ()
    )
    events = [
        event(
            ev,
            show_repeat_of=related_visible,
            visible_matches=visible_matches,
            visible_others=visible_others,
        )
        for ev in rows
    ]
    pending = ExtensionRequest.objects.filter(
        case=case, state=ExtensionRequest.State.PENDING
    ).first()
    return {
        "id": case.pk,
        "number": case.number,
        "query_code": case.query_code,
        "status": status(case.status),
        "channel": code_label(case.channel, case.get_channel_display()),
        "purpose": code_label(case.purpose, case.get_purpose_display()),
        "category": str(case.category) if case.category else None,
        "category_id": case.category_id,
        "place_code": case.place_code,
        "place_name": case.place_name,
        "summary": shown_summary(case),
        "content": "" if case.is_confidential else case.content,
        "is_confidential": case.is_confidential,
        "received_at": local(case.received_at),
        "registered_at": local(case.registered_at),
        "registered_by": person_name(case.registered_by),
        "headcount": case.headcount,
        "group": case.group.name if case.group else None,
        "is_repeat": case.is_repeat,
        "is_skip_level": case.is_skip_level,
        "is_collective": case.is_collective,
        "is_joint": case.is_joint,
        "desk_purpose": (
            code_label(case.desk_purpose, case.get_desk_purpose_display())
            if case.desk_purpose
            else None
        ),
        "visitor_type": (
            code_label(case.visitor_type, case.get_visitor_type_display())
            if case.visitor_type
            else None
        ),
        "desk_owner": person_name(case.desk_owner or case.registered_by),
        "related_to": related_number,
        "office_unit": unit(case.office_unit),
        "handling_unit": unit(case.handling_unit),
        "evaluation": (
            code_label(case.evaluation, Evaluation(case.evaluation).label)
            if case.evaluation
            else None
        ),
        "served_at": case.served_at,
        "closed_at": local(case.closed_at),
        "updated_at": local(case.updated_at),
        "deadline_state": deadline_state(getattr(case, "next_due", None), today),
        "petitioners": _parties(case, masked=case.is_confidential),
        "events": events,
        "deadlines": _open_deadlines(case, today),
        "pending_extension": (
            {"days": pending.days, "reason": pending.reason, "requested_at": pending.requested_at}
            if pending
            else None
        ),
        "attachments": [
            attachment(a, masked=case.is_confidential)
            for a in Attachment.objects.filter(case=case, is_internal=False).order_by(
                "uploaded_at", "id"
            )
        ],
        "allowed_actions": [
            {"code": a.code, "label": a.label, "path": f"/api/cases/{case.pk}/actions/{a.code}"}
            for a in allowed_actions(user, case)
        ],
    }


def fresh_detail(request: HttpRequest, case_id: int) -> dict[str, Any]:
    """Read the case again (after a write) and show it."""
    return detail(request, case_or_404(request, case_id))
