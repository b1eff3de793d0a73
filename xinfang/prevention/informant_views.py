"""信息员 pages (helper C)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse


def informant_list(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("待实现", status=501)


def report_list(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("待实现", status=501)


def report_detail(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("待实现", status=501)


def report_act(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("待实现", status=501)


def mobile_home(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("待实现", status=501)


def mobile_new(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("待实现", status=501)


def mobile_report(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("待实现", status=501)
