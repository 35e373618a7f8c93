from django.urls import path

from monitoring.telemetry.api.ingest import EventsView, MetricsView, VitalsView
from monitoring.telemetry.api.query import MetricQueryView

urlpatterns = [
    path("api/v1/vitals", VitalsView.as_view(), name="telemetry-vitals"),
    path("api/v1/metrics", MetricsView.as_view(), name="telemetry-metrics"),
    path("api/v1/metrics/query", MetricQueryView.as_view(), name="telemetry-query"),
    path("api/v1/events", EventsView.as_view(), name="telemetry-events"),
]
