"""Channels (config as the notifier's fields, checked by it; "send test" on the list and the
page), the outbox and the delivery log."""

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import action, display

from alerts.delivery.forms import CONFIG_PREFIX, ChannelForm, channel_form_class
from alerts.delivery.notifiers import NOTIFIERS, Notifier
from alerts.delivery.services.sending import channel_send_test, notification_retry
from alerts.models import Channel, DeliveryAttempt, Notification


class DeliveryAttemptInline(TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    fields = readonly_fields = ("at", "ok", "status_code", "duration_ms", "error", "response_excerpt")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Channel)
class ChannelAdmin(ModelAdmin):
    form = ChannelForm
    list_display = ("name", "kind", "enabled", "allow_private", "user", "health", "last_delivered_at", "log_link")
    list_filter = ("kind", "enabled")
    list_select_related = ("user",)
    search_fields = ("name",)
    raw_id_fields = ("user",)
    readonly_fields = ("consecutive_failures", "failing_since", "last_delivered_at", "log_link", "test_button")
    actions = ["send_test"]
    # Switching the kind reloads the form with that kind's fields (ChannelForm marks the box).
    change_form_after_template = "admin/alerts/kind_switch.html"

    def notifier(self, request, obj=None) -> type[Notifier]:
        """The kind the form is for: as posted, as asked (?kind=), as saved, else the first."""
        for key in (request.POST.get("kind"), request.GET.get("kind"), obj.kind if obj else None):
            if key in NOTIFIERS:
                return NOTIFIERS[key]
        return next(iter(NOTIFIERS.values()))

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = channel_form_class(self.notifier(request, obj))
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        notifier = self.notifier(request, obj)
        names = tuple(CONFIG_PREFIX + name for name in (notifier.form_fields() or {}))
        if names:
            config = [
                ("Where it sends", {"fields": names}),
                ("Advanced: the config as JSON", {"fields": ("config_as_json", "config"), "classes": ["collapse"]}),
            ]
        else:
            config = [("Where it sends", {"fields": ("config",)})]
        delivery = ("consecutive_failures", "failing_since", "last_delivered_at", "log_link", "test_button")
        return (
            (None, {"fields": ("name", "kind", "allow_private", "user", "enabled")}),
            *config,
            # A new channel has delivered nothing yet, and a test needs it saved first.
            *([("Delivery", {"fields": delivery})] if obj else []),
        )

    @display(description="send a test")
    def test_button(self, channel):
        # Part of the change form: the channel is saved as edited, then the test goes out
        # (response_change), through the same service as the list action.
        return format_html(
            '<button type="submit" name="_send_test" value="1" id="send-test" class="{}">{}</button>'
            '<p class="mt-1 text-sm">A real message goes out through this channel; '
            "the result is in the delivery log.</p>",
            "border border-base-200 font-medium px-3 py-2 rounded-default text-sm hover:bg-base-50 "
            "dark:border-base-700 dark:hover:bg-base-800",
            "Save and send a test",
        )

    def response_change(self, request, obj):
        if "_send_test" in request.POST:
            self._send_tests(request, [obj])
            return HttpResponseRedirect(reverse("admin:alerts_channel_change", args=[obj.pk]))
        return super().response_change(request, obj)

    def _send_tests(self, request, channels) -> None:
        for channel in channels:
            attempt = channel_send_test(channel=channel, now=timezone.now())
            status = f"HTTP {attempt.status_code}" if attempt.status_code else ""
            if attempt.ok:
                messages.success(request, f"{channel}: test sent {status}".rstrip())
            else:
                messages.error(request, f"{channel}: test failed: {attempt.error}")

    @display(description="health")
    def health(self, channel):
        if not channel.consecutive_failures:
            return "ok"
        return f"{channel.consecutive_failures} failures in a row"

    @display(description="delivery log")
    def log_link(self, channel):
        if not channel.pk:
            return "—"
        url = reverse("admin:alerts_deliveryattempt_changelist") + f"?channel__id__exact={channel.pk}"
        return format_html('<a href="{}" class="text-primary-600 underline">Delivery log</a>', url)

    @action(description="Send a test notification through the selected channels")
    def send_test(self, request, queryset):
        # A list action is a CSRF-protected POST: a real message goes out, so never on a GET.
        self._send_tests(request, queryset)


class _ReadOnly(ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(_ReadOnly):
    list_display = (
        "created_at",
        "incident",
        "channel",
        "event_kind",
        "status",
        "attempts",
        "next_attempt_at",
        "delivered_at",
        "last_error",
    )
    list_filter = ("status", "channel")
    list_select_related = ("incident", "channel", "event")
    show_full_result_count = False  # no COUNT(*) over a big table on every page
    inlines = [DeliveryAttemptInline]
    actions = ["retry"]

    @action(description="Send the selected failed notifications again")
    def retry(self, request, queryset):
        now = timezone.now()
        queued = sum(notification_retry(notification=n, now=now) for n in queryset)
        messages.success(request, f"{queued} notification(s) queued again; the next delivery tick sends them.")

    @display(description="event")
    def event_kind(self, notification):
        return notification.event.get_kind_display()


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(_ReadOnly):
    list_display = (
        "at",
        "channel",
        "ok",
        "status_code",
        "duration_ms",
        "error",
        "response_excerpt",
        "notification_link",
    )
    list_filter = ("channel", "ok")
    list_select_related = ("channel", "notification")
    show_full_result_count = False
    search_fields = ("error",)

    @display(description="notification")
    def notification_link(self, attempt):
        if attempt.notification_id is None:
            return "test"
        url = reverse("admin:alerts_notification_change", args=[attempt.notification_id])
        return format_html('<a href="{}">#{}</a>', url, attempt.notification_id)
