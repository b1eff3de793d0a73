"""URLs of xinfang.reception (under /reception/; names are global, prefixed `reception_`)."""

from django.urls import URLPattern, path

from xinfang.reception import views

urlpatterns: list[URLPattern] = [
    path("", views.desk, name="reception_desk"),
    path("board/", views.board, name="reception_board"),
    path("history/", views.history, name="reception_history"),
    path("visits/<int:pk>/", views.visit_detail, name="reception_visit"),
    path("visits/<int:pk>/call/", views.visit_call, name="reception_visit_call"),
    path("visits/<int:pk>/leave/", views.visit_leave, name="reception_visit_leave"),
    path("days/", views.day_list, name="reception_days"),
    path("days/new/", views.day_new, name="reception_day_new"),
    path("days/<int:pk>/", views.day_detail, name="reception_day"),
    path("days/<int:pk>/edit/", views.day_edit, name="reception_day_edit"),
    path("days/<int:pk>/cancel/", views.day_cancel, name="reception_day_cancel"),
    path("days/<int:pk>/bookings/", views.booking_new, name="reception_booking_new"),
    path("bookings/<int:pk>/link/", views.booking_link, name="reception_booking_link"),
    path("bookings/<int:pk>/record/", views.booking_record, name="reception_booking_record"),
    path("bookings/<int:pk>/print/", views.booking_print, name="reception_booking_print"),
    path("bookings/<int:pk>/<str:action>/", views.booking_action, name="reception_booking_action"),
    path("cases/<int:case_pk>/owner/", views.owner_assign, name="reception_ownership_assign"),
    path("cases/<int:case_pk>/owner/end/", views.owner_end, name="reception_ownership_end"),
    path("mine/", views.mine, name="reception_mine"),
    path("duty/", views.duty, name="reception_duty"),
    path("duty/<int:pk>/remove/", views.duty_remove, name="reception_duty_remove"),
]
