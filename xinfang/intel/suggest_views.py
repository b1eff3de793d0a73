"""HTMX partials with routing suggestions: categories on the registration form, units on the
routing actions of a case. Read-only; what was suggested and chosen is recorded by the services'
signals (``intel.receivers``), not here."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_POST

from xinfang.cases import policy
from xinfang.intel import suggest

# The form posts what the clerk has typed so far; the classifier reads at most 2,000 characters.
MAX_POST_TEXT = 50_000


@login_required
@require_POST
def category_suggest(request: HttpRequest) -> HttpResponse:
    """Top-3 categories for the summary and content typed so far (POST: the content can be long).
    Only desk staff of a petition office (those who may register) get an answer; others 404."""
    if not suggest.may_suggest_categories(request.user):
        raise Http404
    title = (request.POST.get("summary") or "")[:MAX_POST_TEXT]
    text = (request.POST.get("content") or "")[:MAX_POST_TEXT]
    context: dict[str, object] = {"empty": not (title.strip() or text.strip())}
    if not context["empty"]:
        context["s"] = suggest.suggest_categories(title=title, text=text)
        context["no_model"] = context["s"] is None
    return render(request, "intel/_suggest.html", context)


@login_required
@require_GET
def route_suggest(request: HttpRequest, pk: int) -> HttpResponse:
    """Units to route the case to: only for someone who may route it now (else 404)."""
    case = get_object_or_404(policy.cases_visible_to(request.user), pk=pk)
    action = request.GET.get("action", "assign")
    if not suggest.may_suggest_units(request.user, case, action):
        raise Http404
    first = suggest.category_of(case)
    context = {
        "guesses": suggest.suggest_units(case=case, first_level_id=first),
        "category": first and suggest.first_level_label(first),
        "field_id": f"id_a_{action}-unit",
        "from_model": not case.category_id,
    }
    return render(request, "intel/_route_suggest.html", context)


# Person rows whose ID number and phone are matched for "same petitioner first".
MAX_PERSON_ROWS = 5


def _petitioners_typed(post: Any) -> list[int]:
    """Known petitioners among the ID numbers and phones typed on the form (blind indexes)."""
    from xinfang.people import selectors as people

    ids: list[int] = []
    for i in range(MAX_PERSON_ROWS):
        number = (post.get(f"p-{i}-id_number") or "").strip()[:40]
        phone = (post.get(f"p-{i}-phone") or "").strip()[:40]
        if number:
            ids += people.with_id_number(number).values_list("pk", flat=True)[:5]
        if phone:
            ids += people.with_phone(phone).values_list("pk", flat=True)[:5]
    return list(dict.fromkeys(ids))


@login_required
@require_POST
def registration_similar(request: HttpRequest) -> HttpResponse:
    """口径参考 on the registration form: earlier similar cases (same person first) with what
    was answered, for the text, place, category and ID numbers/phones typed so far."""
    from xinfang.intel import similar

    if not (suggest.may_suggest_categories(request.user) and similar.may_use_similar(request.user)):
        raise Http404
    post = request.POST
    title = (post.get("summary") or "")[:MAX_POST_TEXT]
    text = (post.get("content") or "")[:MAX_POST_TEXT]
    petitioners = _petitioners_typed(post)
    category = post.get("category") or ""
    context: dict[str, Any] = {
        "for_case": False,
        "empty": not (title.strip() or text.strip() or petitioners),
    }
    context["hits"] = (
        []
        if context["empty"]
        else similar.similar_cases(
            request.user,
            title=title,
            text=text,
            petitioner_ids=petitioners,
            place_code=(post.get("place_code") or "")[:12],
            category_id=int(category) if category.isdigit() and len(category) < 12 else None,
        )
    )
    return render(request, "intel/_similar.html", context)
