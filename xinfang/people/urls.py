from django.urls import path

from xinfang.people import views

urlpatterns = [
    path("people/<int:pk>/reveal/", views.reveal, name="petitioner_reveal"),
]
