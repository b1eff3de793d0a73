"""URLs of xinfang.directory (mounted under /directory/; global names prefixed `directory_`)."""

from __future__ import annotations

from django.urls import URLPattern, path

from xinfang.directory import views

urlpatterns: list[URLPattern] = [
    path("", views.directory_list, name="directory_list"),
    path("cases/<int:pk>/inform/", views.case_inform_view, name="directory_case_inform"),
]
