from django.urls import path

from xinfang.cases import (
    attachment_views,
    confidential_views,
    correction_views,
    desk_views,
    exports,
    views,
    work_views,
)

urlpatterns = [
    path("", views.home, name="home"),
    path("cases/", views.case_list, name="case_list"),
    path("cases/new/", views.case_register_view, name="case_register"),
    path("cases/new/desk-panel/", desk_views.desk_panel, name="case_register_desk_panel"),
    path("cases/<int:pk>/handover/", desk_views.case_handover_view, name="case_handover"),
    path("cases/<int:pk>/counselling/", desk_views.case_counselling_view, name="case_counselling"),
    path("work/", work_views.workbench_view, name="cases_workbench"),
    path("cases/bulk-route/", work_views.bulk_route_view, name="cases_bulk_route"),
    path("cases/<int:pk>/links/", work_views.case_link_view, name="case_link"),
    path(
        "cases/<int:pk>/investigation/",
        work_views.case_investigation_view,
        name="case_investigation",
    ),
    path("cases/<int:pk>/evidence/", work_views.case_evidence_view, name="case_evidence"),
    path("cases/export", exports.case_export_view, name="case_export"),
    path("cases/<int:pk>/reveal/", confidential_views.case_reveal, name="case_reveal"),
    path("cases/<int:pk>/accused/", confidential_views.case_accused_add, name="case_accused_add"),
    path("cases/<int:pk>/", views.case_detail, name="case_detail"),
    path("cases/<int:pk>/act/<slug:code>/", views.case_act, name="case_act"),
    path("cases/<int:pk>/note/", views.case_note, name="case_note"),
    path("cases/<int:pk>/correct/", correction_views.case_correct_view, name="case_correct"),
    path(
        "cases/<int:pk>/attachments/<int:att_id>",
        attachment_views.attachment_download,
        name="attachment_download",
    ),
]
