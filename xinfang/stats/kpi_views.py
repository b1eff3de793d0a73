"""Placeholder views of the URL contract (issue 8 skeleton); replaced by the real pages."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse


def _todo(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return HttpResponse("尚未实现", status=501)


kpi_page = scheme_edit = veto_list = veto_revoke = _todo
