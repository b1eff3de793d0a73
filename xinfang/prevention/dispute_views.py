"""台账 pages (helper A)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse


def dispute_list(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("待实现", status=501)


def dispute_export(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("待实现", status=501)


def dispute_new(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("待实现", status=501)


def dispute_detail(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("待实现", status=501)


def dispute_edit(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("待实现", status=501)


def dispute_contact(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("待实现", status=501)


def dispute_request_strike(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("待实现", status=501)


def dispute_decide_strike(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("待实现", status=501)


def dispute_file(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("待实现", status=501)
