from django.urls import path

from monitoring.security.api import SecurityEventsView

urlpatterns = [path("api/v1/security-events", SecurityEventsView.as_view(), name="security-events")]
