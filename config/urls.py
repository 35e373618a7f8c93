from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from alerts.intake.api.alertmanager import AlertmanagerView
from alerts.intake.api.events import EventsView as AlertEventsView
from monitoring.errors.api import envelope_view, store_view
from monitoring.health.api import ComponentView, HealthView, LiveView, ReadyView
from monitoring.metrics.api import metrics_view
from monitoring.projects.api.ingest_keys import IngestKeyView
from monitoring.projects.api.projects import ProjectViewSet
from monitoring.telemetry.api.ingest import EventsView, MetricsView, VitalsView
from monitoring.telemetry.api.query import MetricQueryView
from monitoring.uptime.api import TargetViewSet

router = SimpleRouter(trailing_slash=False)
router.register("api/v1/projects", ProjectViewSet, basename="project")
router.register("api/v1/targets", TargetViewSet, basename="target")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("health", HealthView.as_view(), name="health"),
    path("health/live", LiveView.as_view(), name="health-live"),
    path("health/ready", ReadyView.as_view(), name="health-ready"),
    path("health/<slug:component>", ComponentView.as_view(), name="health-component"),
    path("metrics", metrics_view, name="metrics"),
    path("api/v1/ingest/key", IngestKeyView.as_view(), name="ingest-key"),
    path("api/v1/vitals", VitalsView.as_view(), name="telemetry-vitals"),
    path("api/v1/metrics", MetricsView.as_view(), name="telemetry-metrics"),
    path("api/v1/metrics/query", MetricQueryView.as_view(), name="telemetry-query"),
    path("api/v1/events", EventsView.as_view(), name="telemetry-events"),
    path("api/<int:project_id>/envelope/", envelope_view, name="sentry-envelope"),
    path("api/<int:project_id>/store/", store_view, name="sentry-store"),
    path("ping/", include("monitoring.heartbeats.urls")),
    path("api/v1/alerts/alertmanager", AlertmanagerView.as_view(), name="alerts-alertmanager"),
    path("api/v1/alerts/events", AlertEventsView.as_view(), name="alerts-events"),
    path("oncall/", include("alerts.paging.urls")),
    path("", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
