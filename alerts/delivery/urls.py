from rest_framework.routers import SimpleRouter

from alerts.delivery.api import ChannelViewSet

router = SimpleRouter(trailing_slash=False)
router.register("api/v1/channels", ChannelViewSet, basename="channel")

urlpatterns = router.urls
