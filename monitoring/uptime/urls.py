from rest_framework.routers import SimpleRouter

from monitoring.uptime.api import TargetViewSet

router = SimpleRouter(trailing_slash=False)
router.register("api/v1/targets", TargetViewSet, basename="target")

urlpatterns = router.urls
