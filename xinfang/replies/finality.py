"""终结: a matter whose 复核意见 has been given (status 已终结) is not accepted again on the same
facts and reasons. Registration flags a new case of the same person or group in the same
category (or one naming the final case as related_to) as a repeat of it, with a
``final_repeat`` event carrying the 复核意见; the case page and the registration form show it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from xinfang.cases.models import Case, CaseEvent, Status

GUIDANCE = "该事项已终结（复核意见已出具），同一事实和理由不再受理"


def final_case_for(
    people: list[Any],
    group: Any,
    category_id: int | None,
    related_to_id: int | None,
    earlier: Case | None,
) -> Case | None:
    """The latest final case of these people (or this group) in this category, or the named
    related case when it is final. ``earlier`` is registration's latest earlier case of the same
    matter: none means no final one either (no extra query on a first registration)."""
    if earlier is None:
        return None
    if earlier.status == Status.FINAL:
        return earlier
    if related_to_id or not category_id:
        return None
    qs = Case.objects.filter(category_id=category_id, status=Status.FINAL)
    if group is not None:
        found = qs.filter(group=group).order_by("-received_at").first()
        if found is not None:
            return found
    if people:
        return qs.filter(parties__petitioner__in=people).order_by("-received_at").first()
    return None


def rereview_text(final: Case) -> str:
    return (
        final.events.filter(kind="decide_rereview")
        .order_by("-at")
        .values_list("text", flat=True)
        .first()
        or ""
    )


def record_final_repeat(
    case: Case, final: Case, *, by: Any, unit: Any, at: dt.datetime
) -> CaseEvent:
    """The ``final_repeat`` row. The 复核意见 is copied only when the registering clerk may see
    the final case and it is not a 检举控告件: the new case's readers (another unit, possibly
    one accused in the final case) must not read a confidential case's opinion through it."""
    from xinfang.cases.policy import cases_visible_to

    text = ""
    if not final.is_confidential and cases_visible_to(by).filter(pk=final.pk).exists():
        text = rereview_text(final)
    return CaseEvent.objects.create(
        case=case,
        kind="final_repeat",
        actor=by,
        actor_unit=unit,
        at=at,
        from_status=case.status,
        to_status=case.status,
        text=text,
        data={"final_case_id": final.pk, "final_number": final.number},
    )


def final_cases_of(petitioner_ids: list[int], *, within: Any = None) -> list[Case]:
    """Final cases of these people (the registration form's guidance); ``within``: the cases
    the reader may find (a queryset; filtered in the database, not by loading its ids)."""
    if not petitioner_ids:
        return []
    qs = Case.objects.all() if within is None else within
    return list(
        qs.filter(status=Status.FINAL, parties__petitioner_id__in=petitioner_ids)
        .select_related("category")
        .distinct()
        .order_by("-received_at")[:5]
    )
