"""重点人员/群体 pages (helper D)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse


def key_list(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("待实现", status=501)


def person_new(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("待实现", status=501)


def person_detail(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("待实现", status=501)


def group_new(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("待实现", status=501)


def group_detail(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("待实现", status=501)
