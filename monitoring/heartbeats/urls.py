from django.urls import path
from rest_framework.routers import SimpleRouter

from monitoring.heartbeats.api import HeartbeatViewSet, ping

urlpatterns = [
    path("<uuid:ping_key>", ping, name="ping"),
    path("<uuid:ping_key>/start", ping, {"signal": "start"}, name="ping-start"),
    path("<uuid:ping_key>/fail", ping, {"signal": "fail"}, name="ping-fail"),
    path("<uuid:ping_key>/log", ping, {"signal": "log"}, name="ping-log"),
    path("<uuid:ping_key>/<int:exit_code>", ping, name="ping-exit-code"),
]

# The token API's heartbeats, mounted at the site root by config/urls.py (the pings above live
# under /ping/).
api_router = SimpleRouter(trailing_slash=False)
api_router.register("api/v1/heartbeats", HeartbeatViewSet, basename="heartbeat")
api_urlpatterns = api_router.urls
