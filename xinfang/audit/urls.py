from django.urls import path

from xinfang.audit import views

urlpatterns = [
    path("audit/", views.audit_list, name="audit_list"),
    path("audit/verify/", views.audit_verify, name="audit_verify"),
]
