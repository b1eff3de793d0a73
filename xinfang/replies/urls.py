"""URLs of xinfang.replies (mounted under /replies/; names are global and prefixed `replies_`)."""

from django.urls import URLPattern, path

from xinfang.replies import views

urlpatterns: list[URLPattern] = [
    path("cases/<int:pk>/<slug:step>/", views.reply_step, name="replies_step"),
    path("final-check/", views.final_check, name="replies_final_check"),
]
