"""Public status pages at /status/<slug>/ (mounted by config/urls.py)."""

from django.urls import include, path

from alerts.status import api, views

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
