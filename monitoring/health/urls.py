from django.urls import path

from monitoring.health.api import ComponentView, HealthView, LiveView, ReadyView

urlpatterns = [
    path("health", HealthView.as_view(), name="health"),
    path("health/live", LiveView.as_view(), name="health-live"),
    path("health/ready", ReadyView.as_view(), name="health-ready"),
    path("health/<slug:component>", ComponentView.as_view(), name="health-component"),
]
