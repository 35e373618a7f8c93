"""Public status pages at /status/<slug>/ (mounted by config/urls.py)."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from alerts.status import api, views
from alerts.status.rest_api import PublicIncidentViewSet, StatusPageViewSet

DOCUMENTS = ("summary", "status", "components", "incidents", "scheduled-maintenances")

# The same routes serve /status/<slug>/… and, through domain_urls, a page's custom domain.
page_patterns = [
    path("", views.status_page, name="page"),
    path("history/", views.history, name="history"),
    path("history/<int:year>/<int:month>/", views.history, name="history-month"),
    path("widget/", views.widget, name="widget"),
    path("feed.atom", views.feed, name="feed"),
    path("subscribe/", views.subscribe, name="subscribe"),
    path("subscribe/confirm/<str:token>/", views.confirm, name="confirm"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    *[path(f"api/v2/{name}.json", api.statuspage_json, {"document": name}, name=f"api-{name}") for name in DOCUMENTS],
    path("api/v2/incidents/unresolved.json", api.statuspage_json, {"document": "unresolved"}, name="api-unresolved"),
    path("badge/<int:component_id>/<str:kind>.svg", api.badge, name="badge"),
    path("badge/<int:component_id>/<str:kind>.json", api.shields_endpoint, name="shields"),
]

app_name = "status"
urlpatterns = [path("<slug:slug>/", include(page_patterns))]

# The token API's status pages and their public incidents, mounted at the site root by
# config/urls.py (this module's own routes live under /status/).
api_router = SimpleRouter(trailing_slash=False)
api_router.register("api/v1/status-pages", StatusPageViewSet, basename="status-page")
INCIDENTS = "api/v1/status-pages/<int:id>/incidents"
api_urlpatterns = [
    *api_router.urls,
    path(INCIDENTS, PublicIncidentViewSet.as_view({"get": "list", "post": "create"}), name="status-page-incidents"),
    path(
        f"{INCIDENTS}/<int:incident_id>",
        PublicIncidentViewSet.as_view({"get": "retrieve", "patch": "partial_update"}),
        name="status-page-incident",
    ),
    path(
        f"{INCIDENTS}/<int:incident_id>/updates",
        PublicIncidentViewSet.as_view({"post": "updates"}),
        name="status-page-incident-updates",
    ),
]
