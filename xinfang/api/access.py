"""Which cases a request can reach: always through ``policy.cases_visible_to``.

Another unit's case is a 404, never a 403 — its existence is not ours to confirm.
"""

from __future__ import annotations

from typing import TypeVar

from django.db.models import Model, QuerySet
from django.http import HttpRequest

from xinfang.api.auth import current_user
from xinfang.api.errors import NOT_FOUND, NotFound
from xinfang.cases import deadlines
from xinfang.cases.models import Case
from xinfang.cases.policy import cases_visible_to


def visible(request: HttpRequest) -> QuerySet[Case]:
    return cases_visible_to(current_user(request))


def case_or_404(request: HttpRequest, case_id: int) -> Case:
    """The case if this user may see it — otherwise 404, never 403."""
    return row_or_404(
        deadlines.with_next_due(visible(request)).select_related(
            "office_unit", "handling_unit", "category", "group", "registered_by"
        ),
        case_id,
    )


M = TypeVar("M", bound=Model)


def row_or_404(rows: QuerySet[M], pk: int, message: str = NOT_FOUND) -> M:
    """Row ``pk`` of ``rows`` (a queryset already scoped to what the user may see) — otherwise
    404 with ``message``, never 403."""
    row = rows.filter(pk=pk).first()
    if row is None:
        raise NotFound(message)
    return row
