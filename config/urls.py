"""Every feature keeps its routes in its own urls.py; this only mounts them."""

from django.contrib import admin
from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from alerts.paging.urls import api_urlpatterns as paging_api_urls
from alerts.status.urls import api_urlpatterns as status_api_urls
from config.overview import OverviewView
from monitoring.heartbeats.urls import api_urlpatterns as heartbeats_api_urls

urlpatterns = [
    # The portal is the admin: the bare address leads there, and browsers asking for the
    # conventional icon get the one the pages link.
    path("", RedirectView.as_view(pattern_name="admin:index"), name="home"),
    path("favicon.ico", lambda request: HttpResponsePermanentRedirect(static("lookout/favicon.svg")), name="favicon"),
    # Routes are tried in order, and each include passed costs a few microseconds: the most
    # requested paths (public status pages, heartbeat pings) come first. Their prefixes are
    # their own, so the order changes nothing else.
    path("status/", include("alerts.status.urls")),
    path("ping/", include("monitoring.heartbeats.urls")),
    path("admin/", admin.site.urls),
    path("", include("monitoring.health.urls")),
    path("", include("monitoring.metrics.urls")),
    path("", include("monitoring.projects.urls")),
    path("", include("monitoring.uptime.urls")),
    path("", include("monitoring.telemetry.urls")),
    path("", include("monitoring.security.urls")),
    path("", include("monitoring.errors.urls")),
    path("", include("monitoring.traces.urls")),
    path("", include(heartbeats_api_urls)),
    path("", include("alerts.intake.urls")),
    path("oncall/", include("alerts.paging.urls")),
    path("", include(paging_api_urls)),
    path("", include(status_api_urls)),
    path("", include("alerts.incidents.urls")),
    path("", include("alerts.rules.urls")),
    path("", include("alerts.delivery.urls")),
    path("api/v1/overview", OverviewView.as_view(), name="api-overview"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

handler404 = "monitoring.common.exception_handler.not_found"
