"""URLs of xinfang.supervision (mounted under /supervision/; global names prefixed
`supervision_`)."""

from django.urls import URLPattern, path

from xinfang.supervision import views

urlpatterns: list[URLPattern] = [
    path("", views.supervision_index, name="supervision_index"),
    path("runs/", views.supervision_runs, name="supervision_runs"),
    path("run/", views.supervision_run_now, name="supervision_run_now"),
    path("case/<int:case_id>/", views.supervision_case_act, name="supervision_case_act"),
]
