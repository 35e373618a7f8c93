from django.contrib import admin
from unfold.admin import ModelAdmin

from monitoring.models import Pulse


@admin.register(Pulse)
class PulseAdmin(ModelAdmin):
    list_display = ("kind", "name", "last_seen_at")
    list_filter = ("kind",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
