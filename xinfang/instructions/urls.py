"""URLs of xinfang.instructions (mounted under /instructions/; global names `instructions_…`)."""

from django.urls import URLPattern, path

from xinfang.instructions import views

urlpatterns: list[URLPattern] = [
    path("", views.instructions_list, name="instructions_list"),
    path("case/<int:case_pk>/new", views.instructions_new, name="instructions_new"),
    path("<int:pk>/report", views.instructions_report, name="instructions_report"),
    path("<int:pk>/close", views.instructions_close, name="instructions_close"),
]
