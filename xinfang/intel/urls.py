"""URLs of the intelligence features (mounted under /intel/)."""

from django.urls import path

from xinfang.intel import hotspot_views, model_views, similar_views, suggest_views

urlpatterns = [
    path("hotspots/", hotspot_views.hotspot_page, name="intel_hotspots"),
    path(
        "hotspots/summary/",
        hotspot_views.hotspot_summary_partial,
        name="intel_hotspots_summary",
    ),
    path("suggest/", suggest_views.category_suggest, name="intel_suggest"),
    path("similar/register/", suggest_views.registration_similar, name="intel_similar_register"),
    path("similar/", similar_views.similar_panel, name="intel_similar"),
    path(
        "cases/<int:pk>/route-suggest/",
        suggest_views.route_suggest,
        name="intel_route_suggest",
    ),
    path("models/", model_views.model_list, name="intel_models"),
    path("models/table/", model_views.model_table, name="intel_models_table"),
    path("models/retrain/", model_views.model_retrain, name="intel_models_retrain"),
    path("models/<int:pk>/activate/", model_views.model_activate, name="intel_models_activate"),
]
