"""Reads of petitioners by identifying value: exact matches through the blind indexes.

The ID number and the phone are stored encrypted; these helpers are the only way to query by
them (``Petitioner.objects.filter(id_number=…)`` does not exist). Each accepts the value as
typed and normalises it as the model does before hashing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet

from xinfang.core.crypto import blind_indexes
from xinfang.core.masking import normalise_phone
from xinfang.people import pii
from xinfang.people.models import Petitioner

if TYPE_CHECKING:
    from xinfang.cases.models import Case

MAX_ID = 2**62


def with_id_number(number: str, qs: QuerySet[Petitioner] | None = None) -> QuerySet[Petitioner]:
    """People with exactly this ID number (case, spaces and full-width digits ignored)."""
    qs = Petitioner.objects.all() if qs is None else qs
    number = pii.normalise_id(number)
    if not number:
        return qs.none()
    return qs.filter(id_number_bidx__in=blind_indexes(pii.ID_PURPOSE, number))


def with_id_tail(tail: str, qs: QuerySet[Petitioner] | None = None) -> QuerySet[Petitioner]:
    """People whose ID number ends in these six characters (the desk's quick lookup)."""
    qs = Petitioner.objects.all() if qs is None else qs
    tail = pii.normalise_id(tail)
    if len(tail) != pii.ID_TAIL_LENGTH:
        return qs.none()
    return qs.filter(id_tail_bidx__in=blind_indexes(pii.ID_TAIL_PURPOSE, tail))


def with_phone(*spellings: str, qs: QuerySet[Petitioner] | None = None) -> QuerySet[Petitioner]:
    """People with this phone, in any spelling (indexes are of the canonical spelling, so
    "138 1234 5678" and "01012345678" find 13812345678 and 010-12345678)."""
    qs = Petitioner.objects.all() if qs is None else qs
    indexes: set[str] = set()
    for raw in spellings:
        canonical = normalise_phone(raw)
        if canonical:
            indexes.update(blind_indexes(pii.PHONE_PURPOSE, canonical))
    if not indexes:
        return qs.none()
    return qs.filter(phone_bidx__in=indexes)


def without_id_number(qs: QuerySet[Petitioner] | None = None) -> QuerySet[Petitioner]:
    qs = Petitioner.objects.all() if qs is None else qs
    return qs.filter(id_number_bidx__isnull=True)


def petitioner_in_view(
    user: Any, pk: int, *, case_id: int | None = None
) -> tuple[Petitioner, Case] | None:
    """The person and a case of theirs the user may see (``case_id`` if given, else the latest),
    or None: a person exists for a user only through a visible case (a 404 otherwise). Roles
    that read no cases see nobody."""
    from xinfang.cases.models import CasePetitioner
    from xinfang.cases.policy import cases_visible_to

    if not 0 < pk < MAX_ID or (case_id is not None and not 0 < case_id < MAX_ID):
        return None  # beyond any row: nobody, and no integer overflow in the query
    links = CasePetitioner.objects.filter(
        petitioner_id=pk, case__in=cases_visible_to(user)
    ).select_related("petitioner", "case")
    if case_id is not None:
        links = links.filter(case_id=case_id)
    link = links.order_by("-case__received_at", "-case_id").first()
    if link is None:
        return None
    return link.petitioner, link.case
