"""TEMPORARY skeleton — replaced by the helper that owns this module."""

from django.http import Http404


def login(request, *args, **kwargs):  # type: ignore[no-untyped-def]
    raise Http404


def logout(request, *args, **kwargs):  # type: ignore[no-untyped-def]
    raise Http404


def register(request, *args, **kwargs):  # type: ignore[no-untyped-def]
    raise Http404


def reset(request, *args, **kwargs):  # type: ignore[no-untyped-def]
    raise Http404


def account(request, *args, **kwargs):  # type: ignore[no-untyped-def]
    raise Http404
