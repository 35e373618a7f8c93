from django.urls import path
from rest_framework.routers import SimpleRouter

from monitoring.projects.api.ingest_keys import IngestKeyView
from monitoring.projects.api.projects import ProjectViewSet

router = SimpleRouter(trailing_slash=False)
router.register("api/v1/projects", ProjectViewSet, basename="project")

urlpatterns = [
    path("api/v1/ingest/key", IngestKeyView.as_view(), name="ingest-key"),
    *router.urls,
]
