from django.urls import path

from monitoring.errors.api import envelope_view, store_view

# The paths sentry-sdk builds from a DSN: http://<key>@<host>/<project_id>.
urlpatterns = [
    path("api/<int:project_id>/envelope/", envelope_view, name="sentry-envelope"),
    path("api/<int:project_id>/store/", store_view, name="sentry-store"),
]
