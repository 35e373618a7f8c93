from django.contrib import admin
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from monitoring.api.ingest_keys import IngestKeyView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/ingest/key", IngestKeyView.as_view(), name="ingest-key"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
