from django.urls import path

from monitoring.metrics.api import metrics_view

urlpatterns = [
    path("metrics", metrics_view, name="metrics"),
]
