"""Which cases a request can reach: always through ``policy.cases_visible_to``.

Another unit's case is a 404, never a 403 — its existence is not ours to confirm.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpRequest

from xinfang.api.auth import current_user
from xinfang.api.errors import NotFound
from xinfang.cases import deadlines
from xinfang.cases.models import Case
from xinfang.cases.policy import cases_visible_to


def visible(request: HttpRequest) -> QuerySet[Case]:
    return cases_visible_to(current_user(request))


def case_or_404(request: HttpRequest, case_id: int) -> Case:
    """The case if this user may see it — otherwise 404, never 403."""
    case = (
        deadlines.with_next_due(visible(request))
        .select_related("office_unit", "handling_unit", "category", "group", "registered_by")
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        raise NotFound()
    return case
