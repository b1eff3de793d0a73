"""URLs of xinfang.prevention (mounted under /prevention/; global names ``prevention_…``).

The contract every page links by name. Modules: ``dispute_views`` (台账), ``screening_views``
(排查轮次), ``informant_views`` (信息员 and the phone pages under ``m/``), ``key_views`` (重点人员/
群体), ``alert_views`` (预警 and the weekly 预测预报), ``dashboard_views`` (the dashboard and map).
"""

from django.urls import URLPattern, path

from xinfang.prevention import (
    alert_views,
    dashboard_views,
    dispute_views,
    informant_views,
    key_views,
    screening_views,
)

urlpatterns: list[URLPattern] = [
    # dashboard (district / ?unit=<street id>) and the SVG map of the unit tree
    path("", dashboard_views.dashboard, name="prevention_dashboard"),
    path("map.svg", dashboard_views.unit_map, name="prevention_map"),
    # 矛盾纠纷排查台账
    path("disputes/", dispute_views.dispute_list, name="prevention_disputes"),
    path("disputes/export.csv", dispute_views.dispute_export, name="prevention_dispute_export"),
    path("disputes/new/", dispute_views.dispute_new, name="prevention_dispute_new"),
    path("disputes/<int:pk>/", dispute_views.dispute_detail, name="prevention_dispute"),
    path("disputes/<int:pk>/edit/", dispute_views.dispute_edit, name="prevention_dispute_edit"),
    path(
        "disputes/<int:pk>/contact/",
        dispute_views.dispute_contact,
        name="prevention_dispute_contact",
    ),
    path(
        "disputes/<int:pk>/request-strike/",
        dispute_views.dispute_request_strike,
        name="prevention_dispute_request_strike",
    ),
    path(
        "disputes/<int:pk>/decide-strike/",
        dispute_views.dispute_decide_strike,
        name="prevention_dispute_decide_strike",
    ),
    path(
        "disputes/<int:pk>/files/<int:file_pk>/",
        dispute_views.dispute_file,
        name="prevention_dispute_file",
    ),
    # 排查轮次
    path("rounds/", screening_views.round_list, name="prevention_rounds"),
    path("rounds/mine/", screening_views.my_reports, name="prevention_my_reports"),
    path("rounds/<int:pk>/", screening_views.round_detail, name="prevention_round"),
    path(
        "rounds/<int:pk>/report/<int:unit_pk>/",
        screening_views.report_form,
        name="prevention_round_report",
    ),
    # 信息员: the network (staff) and the phone pages (the informant)
    path("informants/", informant_views.informant_list, name="prevention_informants"),
    path("reports/", informant_views.report_list, name="prevention_reports"),
    path("reports/<int:pk>/", informant_views.report_detail, name="prevention_report"),
    path("reports/<int:pk>/act/", informant_views.report_act, name="prevention_report_act"),
    path("m/", informant_views.mobile_home, name="prevention_mobile"),
    path("m/new/", informant_views.mobile_new, name="prevention_mobile_new"),
    path("m/<int:pk>/", informant_views.mobile_report, name="prevention_mobile_report"),
    # 重点人员 / 重点群体
    path("keys/", key_views.key_list, name="prevention_keys"),
    path("keys/person/new/", key_views.person_new, name="prevention_key_person_new"),
    path("keys/person/<int:pk>/", key_views.person_detail, name="prevention_key_person"),
    path("keys/group/new/", key_views.group_new, name="prevention_key_group_new"),
    path("keys/group/<int:pk>/", key_views.group_detail, name="prevention_key_group"),
    # 预警
    path("alerts/", alert_views.alert_list, name="prevention_alerts"),
    path("alerts/<int:pk>/", alert_views.alert_detail, name="prevention_alert"),
    path("alerts/<int:pk>/act/", alert_views.alert_act, name="prevention_alert_act"),
    path("forecast/", alert_views.forecast, name="prevention_forecast"),
    path("forecast.docx", alert_views.forecast_docx, name="prevention_forecast_docx"),
]
