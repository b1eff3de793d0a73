"""/stats/ — 统计考核. URL contract (issue 8); each view module owns its pages."""

from django.urls import path

from xinfang.stats import (
    bulletin_views,
    dashboard_views,
    export_views,
    kpi_views,
    table_views,
)

urlpatterns = [
    # leader dashboard (dashboard_views)
    path("", dashboard_views.dashboard, name="stats_dashboard"),
    path("print/", dashboard_views.dashboard_print, name="stats_dashboard_print"),
    # figures with filters and group-by, 同比/环比, the cases behind a figure (table_views)
    path("intake/", table_views.intake_page, name="stats_intake"),
    path("cases/", table_views.cases_behind_page, name="stats_cases"),
    path("form/", table_views.national_form, name="stats_form"),  # 信访情况统计表
    # KPIs, ranking, 考核 (kpi_views)
    path("kpi/", kpi_views.kpi_page, name="stats_kpi"),
    path("kpi/scheme/", kpi_views.scheme_edit, name="stats_scheme"),
    path("kpi/vetoes/", kpi_views.veto_list, name="stats_vetoes"),
    path("kpi/vetoes/<int:pk>/revoke/", kpi_views.veto_revoke, name="stats_veto_revoke"),
    # 通报 (bulletin_views)
    path("bulletins/", bulletin_views.bulletin_list, name="stats_bulletins"),
    path("bulletins/<int:pk>/", bulletin_views.bulletin_detail, name="stats_bulletin"),
    # reissue/ and progress/ before <str:fmt>/, which would match them
    path(
        "bulletins/<int:pk>/reissue/",
        bulletin_views.bulletin_reissue,
        name="stats_bulletin_reissue",
    ),
    path(
        "bulletins/<int:pk>/progress/",
        bulletin_views.bulletin_progress,
        name="stats_bulletin_progress",
    ),
    path("bulletins/<int:pk>/<str:fmt>/", bulletin_views.bulletin_file, name="stats_bulletin_file"),
    # XLSX of any list with its filters (export_views)
    path("export/<str:what>.xlsx", export_views.export_xlsx, name="stats_export"),
]
