"""URLs of xinfang.followup (under /followup/; names are global, prefixed `followup_`)."""

from django.urls import URLPattern, path

from xinfang.followup import views

urlpatterns: list[URLPattern] = [
    path("", views.followup_list, name="followup_list"),
    path("<int:pk>/record/", views.followup_record, name="followup_record"),
    path("tasks/", views.task_list, name="followup_tasks"),
    path("tasks/<int:pk>/close/", views.task_close, name="followup_task_close"),
    path("cases/<int:case_pk>/sms/", views.sms_evaluate, name="followup_sms"),
    path("cases/<int:case_pk>/hearings/", views.hearing_schedule, name="followup_hearing_new"),
    path("hearings/<int:pk>/record/", views.hearing_record, name="followup_hearing_record"),
]
