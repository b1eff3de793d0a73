"""URLs of xinfang.documents (mounted under /documents/; global names prefixed `documents_`)."""

from django.urls import URLPattern, path

from xinfang.documents import views

urlpatterns: list[URLPattern] = [
    path("<int:pk>/", views.document_print, name="documents_print"),
    path("<int:pk>/docx", views.document_docx, name="documents_docx"),
    path("<int:pk>.docx", views.document_docx, name="documents_docx_file"),
    path("event/<int:event_id>/", views.document_event, name="documents_event"),
    path("receipt/<int:pk>/", views.receipt_view, name="documents_receipt"),
]
