"""预警 pages (helper E)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse


def alert_list(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("待实现", status=501)


def alert_detail(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("待实现", status=501)


def alert_act(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("待实现", status=501)


def forecast(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("待实现", status=501)


def forecast_docx(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("待实现", status=501)
