"""Security events in the admin: read only, they are evidence."""

from datetime import timedelta

from django.contrib import admin
from django.http import HttpRequest
from django.utils import timezone
from unfold.admin import ModelAdmin

from monitoring.security.models import SecurityEvent
from monitoring.security.selectors import security_event_summary

SUMMARY_WINDOW = timedelta(days=1)


@admin.register(SecurityEvent)
class SecurityEventAdmin(ModelAdmin):
    list_display = ["at", "kind", "ip_address", "endpoint", "user", "project"]
    list_filter = ["kind", "at", "project"]
    search_fields = ["ip_address", "endpoint", "user", "user_agent"]
    date_hierarchy = "at"
    list_select_related = ["project"]
    list_before_template = "admin/monitoring/security_summary.html"

    def changelist_view(self, request, extra_context=None):
        # The last day at a glance above the list: which kinds, from where, against what.
        summary = security_event_summary(since=timezone.now() - SUMMARY_WINDOW)
        return super().changelist_view(request, {**(extra_context or {}), "security_summary": summary})

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: SecurityEvent | None = None) -> bool:
        return False
