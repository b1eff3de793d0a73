from django.urls import path

from xinfang.cases import attachment_views, confidential_views, exports, views

urlpatterns = [
    path("", views.home, name="home"),
    path("cases/", views.case_list, name="case_list"),
    path("cases/new/", views.case_register_view, name="case_register"),
    path("cases/export", exports.case_export_view, name="case_export"),
    path("cases/<int:pk>/reveal/", confidential_views.case_reveal, name="case_reveal"),
    path("cases/<int:pk>/accused/", confidential_views.case_accused_add, name="case_accused_add"),
    path("cases/<int:pk>/", views.case_detail, name="case_detail"),
    path("cases/<int:pk>/act/<slug:code>/", views.case_act, name="case_act"),
    path("cases/<int:pk>/note/", views.case_note, name="case_note"),
    path(
        "cases/<int:pk>/attachments/<int:att_id>",
        attachment_views.attachment_download,
        name="attachment_download",
    ),
]
