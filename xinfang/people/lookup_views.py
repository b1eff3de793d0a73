"""The desk lookup pages: /people/lookup/ (full page) and its results fragment (HTMX).

The box posts what was typed (so an ID number or phone stays out of URLs, history and access
logs); GET ``?q=`` works too for links. Roles that read no cases get a 404 (the lookup does not
exist for them)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from xinfang.cases.confidential import PLACEHOLDER
from xinfang.people.lookup import MAX_PERSONS, lookup, may_lookup


def _visit(request: HttpRequest) -> str:
    raw = request.POST.get("visit") or request.GET.get("visit") or ""
    return raw if raw.isdigit() and len(raw) < 19 else ""


def _query(request: HttpRequest) -> str:
    return (request.POST.get("q") if request.method == "POST" else request.GET.get("q")) or ""


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def lookup_page(request: HttpRequest) -> HttpResponse:
    if not may_lookup(request.user):
        raise Http404("来访人查询不在您的权限范围内")
    q = _query(request)
    result = lookup(request.user, q) if q else None
    return render(
        request,
        "people/lookup.html",
        {
            "lookup_q": q,
            "lookup_result": result,
            "visit": _visit(request),
            "placeholder": PLACEHOLDER,
            "max_persons": MAX_PERSONS,
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def lookup_results(request: HttpRequest) -> HttpResponse:
    if not may_lookup(request.user):
        raise Http404("来访人查询不在您的权限范围内")
    result = lookup(request.user, _query(request))
    return render(
        request,
        "people/_lookup_results.html",
        {
            "result": result,
            "visit": _visit(request),
            "placeholder": PLACEHOLDER,
            "max_persons": MAX_PERSONS,
        },
    )
