from rest_framework.routers import SimpleRouter

from alerts.rules.api import AlertRuleViewSet

router = SimpleRouter(trailing_slash=False)
router.register("api/v1/rules", AlertRuleViewSet, basename="rule")

urlpatterns = router.urls
