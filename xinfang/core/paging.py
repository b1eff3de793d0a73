"""One way to page a list view: the page of rows and the filters to carry in its links."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.http import HttpRequest


def paginate(request: HttpRequest, rows: Any, per_page: int) -> tuple[Page[Any], str]:
    """The requested page of ``rows`` (out-of-range → the last page) and the query string of
    the request without ``page``, for the pager's links (``templates/_pager.html``)."""
    page = Paginator(rows, per_page).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return page, params.urlencode()
