"""TEMPORARY skeleton — replaced by the helper that owns this module."""

from django.http import Http404


def track(request, *args, **kwargs):  # type: ignore[no-untyped-def]
    raise Http404


def case(request, *args, **kwargs):  # type: ignore[no-untyped-def]
    raise Http404


def evaluate(request, *args, **kwargs):  # type: ignore[no-untyped-def]
    raise Http404


def review(request, *args, **kwargs):  # type: ignore[no-untyped-def]
    raise Http404


def document(request, *args, **kwargs):  # type: ignore[no-untyped-def]
    raise Http404


def leave(request, *args, **kwargs):  # type: ignore[no-untyped-def]
    raise Http404


def short(request):  # type: ignore[no-untyped-def]
    """/track/?code=… (the 登记回执's QR code) → the portal's tracking page, code kept."""
    from django.shortcuts import redirect
    from django.urls import reverse

    query = request.META.get("QUERY_STRING", "")
    return redirect(reverse("portal:track") + (f"?{query}" if query else ""))
