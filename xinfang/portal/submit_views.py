"""TEMPORARY skeleton — replaced by the helper that owns this module."""

from django.http import Http404


def submit(request, *args, **kwargs):  # type: ignore[no-untyped-def]
    raise Http404


def review(request, *args, **kwargs):  # type: ignore[no-untyped-def]
    raise Http404


def done(request, *args, **kwargs):  # type: ignore[no-untyped-def]
    raise Http404
