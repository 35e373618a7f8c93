from rest_framework.routers import SimpleRouter

from alerts.incidents.api import IncidentViewSet, MaintenanceWindowViewSet, SilenceViewSet

router = SimpleRouter(trailing_slash=False)
router.register("api/v1/incidents", IncidentViewSet, basename="incident")
router.register("api/v1/silences", SilenceViewSet, basename="silence")
router.register("api/v1/maintenance-windows", MaintenanceWindowViewSet, basename="maintenance-window")

urlpatterns = router.urls
