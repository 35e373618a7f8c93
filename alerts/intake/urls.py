from django.urls import path

from alerts.intake.api.alertmanager import AlertmanagerView
from alerts.intake.api.events import EventsView

urlpatterns = [
    path("api/v1/alerts/alertmanager", AlertmanagerView.as_view(), name="alerts-alertmanager"),
    path("api/v1/alerts/events", EventsView.as_view(), name="alerts-events"),
]
