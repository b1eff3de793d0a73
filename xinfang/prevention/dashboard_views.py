"""Dashboard (helper D)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse


def dashboard(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("待实现", status=501)


def unit_map(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("待实现", status=501)
