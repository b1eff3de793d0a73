"""The portal's URLs (mounted at /portal/; /track/ is kept for printed receipts' QR codes)."""

from django.urls import path

from xinfang.portal import account_views, submit_views, track_views, views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("guide/", views.guide, name="guide"),
    path("privacy/", views.privacy, name="privacy"),
    # submit → review → confirm (submit_views.py)
    path("submit/", submit_views.submit, name="submit"),
    path("submit/<str:token>/", submit_views.review, name="submit_review"),
    path("submit/<str:token>/done/", submit_views.done, name="submit_done"),
    # tracking, the public timeline, 评价, 复查/复核 (track_views.py)
    path("track/", track_views.track, name="track"),
    path("cases/<int:case_id>/", track_views.case, name="case"),
    path("cases/<int:case_id>/evaluate/", track_views.evaluate, name="case_evaluate"),
    path("cases/<int:case_id>/review/", track_views.review, name="case_review"),
    path("cases/<int:case_id>/doc/<int:event_id>/", track_views.document, name="case_document"),
    path("leave/", track_views.leave, name="leave"),
    # the optional account (account_views.py)
    path("login/", account_views.login, name="login"),
    path("logout/", account_views.logout, name="logout"),
    path("register/", account_views.register, name="register"),
    path("reset/", account_views.reset, name="reset"),
    path("account/", account_views.account, name="account"),
]
