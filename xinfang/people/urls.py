from django.urls import path

from xinfang.people import lookup_views, views

urlpatterns = [
    path("people/<int:pk>/reveal/", views.reveal, name="petitioner_reveal"),
    path("people/lookup/", lookup_views.lookup_page, name="people_lookup"),
    path("people/lookup/results/", lookup_views.lookup_results, name="people_lookup_results"),
]
