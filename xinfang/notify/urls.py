"""URLs of xinfang.notify (mounted under /notify/; names are global and prefixed `notify_`)."""

from django.urls import path

from xinfang.notify import views

urlpatterns = [
    path("", views.inbox, name="notify_inbox"),
    path("badge/", views.badge, name="notify_badge"),
    path("read-all/", views.mark_all_read, name="notify_read_all"),
    path("<int:pk>/read/", views.mark_read, name="notify_read"),
    path("<int:pk>/open/", views.open_notification, name="notify_open"),
    path("cases/<int:pk>/progress/", views.progress_notice, name="notify_progress"),
]
