from django.urls import path
from rest_framework.routers import SimpleRouter

from alerts.paging import views
from alerts.paging.api import PolicyViewSet, ScheduleViewSet

app_name = "oncall"

urlpatterns = [
    path("", views.team, name="team"),
    path("mine", views.mine, name="mine"),
    path("incidents/<int:pk>", views.incident, name="incident"),
    path("incidents/<int:pk>/acknowledge", views.acknowledge, name="acknowledge"),
    path("incidents/<int:pk>/resolve", views.resolve, name="resolve"),
    path("incidents/<int:pk>/snooze", views.snooze, name="snooze"),
    path("incidents/<int:pk>/comment", views.comment, name="comment"),
]

# The token API's policies and schedules, mounted at the site root by config/urls.py (this
# module's own routes live under /oncall/).
api_router = SimpleRouter(trailing_slash=False)
api_router.register("api/v1/escalation-policies", PolicyViewSet, basename="escalation-policy")
api_router.register("api/v1/schedules", ScheduleViewSet, basename="schedule")
api_urlpatterns = api_router.urls
