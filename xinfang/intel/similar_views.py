"""HTMX partial with similar cases (口径参考): for a text being registered, or for a case on its
detail page. Read-only; only desk/case staff of a petition office and handling-unit staff get an
answer (``similar.may_use_similar``), anyone else a 404 like a case they cannot see."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from xinfang.cases import policy
from xinfang.cases.models import CasePetitioner
from xinfang.intel import similar

MAX_TEXT = 50_000


def _int_or_none(value: str | None) -> int | None:
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if 0 < number < similar.MAX_ID else None


@login_required
@require_GET
def similar_panel(request: HttpRequest) -> HttpResponse:
    """``?title=&text=&place_code=&category=&petitioner=…&exclude=``. With only ``exclude``
    (the detail page), the case's own text, place, category and petitioners are the query."""
    user = request.user
    if not similar.may_use_similar(user):
        raise Http404
    get = request.GET
    title = (get.get("title") or "")[:MAX_TEXT]
    text = (get.get("text") or "")[:MAX_TEXT]
    place = (get.get("place_code") or "")[:12]
    category = _int_or_none(get.get("category"))
    petitioners = [p for p in (_int_or_none(v) for v in get.getlist("petitioner")) if p]
    exclude = _int_or_none(get.get("exclude"))
    context: dict[str, Any] = {"for_case": False}
    if exclude and not (title.strip() or text.strip()):
        case = policy.cases_visible_to(user).filter(pk=exclude).first()
        if case is None:
            raise Http404
        context["for_case"] = True
        if case.is_confidential:
            # Matching on an accusation's text would tell the reader what it is about.
            context["confidential"] = True
            return render(request, "intel/_similar.html", context)
        title, text = case.summary, case.content
        place, category = case.place_code, case.category_id
        petitioners = list(
            CasePetitioner.objects.filter(case=case).values_list("petitioner_id", flat=True)
        )
    context["empty"] = not (title.strip() or text.strip() or petitioners)
    context["hits"] = (
        []
        if context["empty"]
        else similar.similar_cases(
            user,
            title=title,
            text=text,
            petitioner_ids=petitioners,
            place_code=place,
            category_id=category,
            exclude_case_id=exclude,
        )
    )
    context["loading"] = similar.index_loading() and not context["empty"]
    return render(request, "intel/_similar.html", context)
