"""Every feature keeps its routes in its own urls.py; this only mounts them."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("monitoring.health.urls")),
    path("", include("monitoring.metrics.urls")),
    path("", include("monitoring.projects.urls")),
    path("", include("monitoring.uptime.urls")),
    path("", include("monitoring.telemetry.urls")),
    path("", include("monitoring.errors.urls")),
    path("ping/", include("monitoring.heartbeats.urls")),
    path("", include("alerts.intake.urls")),
    path("oncall/", include("alerts.paging.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
