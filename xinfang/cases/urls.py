from django.urls import path

from xinfang.cases import views

urlpatterns = [
    path("", views.home, name="home"),
    path("cases/", views.case_list, name="case_list"),
    path("cases/new/", views.case_register_view, name="case_register"),
    path("cases/<int:pk>/", views.case_detail, name="case_detail"),
    path("cases/<int:pk>/act/<slug:code>/", views.case_act, name="case_act"),
    path("cases/<int:pk>/note/", views.case_note, name="case_note"),
]
