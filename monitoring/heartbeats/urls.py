from django.urls import path

from monitoring.heartbeats.api import ping

urlpatterns = [
    path("<uuid:ping_key>", ping, name="ping"),
    path("<uuid:ping_key>/start", ping, {"signal": "start"}, name="ping-start"),
    path("<uuid:ping_key>/fail", ping, {"signal": "fail"}, name="ping-fail"),
    path("<uuid:ping_key>/log", ping, {"signal": "log"}, name="ping-log"),
    path("<uuid:ping_key>/<int:exit_code>", ping, name="ping-exit-code"),
]
