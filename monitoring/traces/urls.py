from django.contrib import admin
from django.urls import path

from monitoring.traces.views import trace_view

urlpatterns = [
    path("traces/<str:trace_id>/", admin.site.admin_view(trace_view), name="traces-trace"),
]
