"""Channels (config checked by the kind's notifier, a "send test" action), the outbox and the delivery log."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import action, display

from alerts.delivery.notifiers import NOTIFIERS
from alerts.delivery.services.sending import channel_send_test, notification_retry
from alerts.models import Channel, DeliveryAttempt, Notification


class ChannelForm(forms.ModelForm):
    class Meta:
        model = Channel
        fields = "__all__"
        help_texts = {
            "config": "Checked by the kind. Secrets are environment variables named here, e.g. "
            '{"url_env": "SLACK_ALERTS_WEBHOOK"}; email: {"to": ["ops@example.com"]}.',
        }

    def clean(self):
        cleaned = super().clean()
        kind, config = cleaned.get("kind"), cleaned.get("config")
        if kind not in NOTIFIERS or "config" in self.errors:
            return cleaned
        notifier_class = NOTIFIERS[kind]
        try:
            cleaned["config"] = notifier_class.validate_config(config if config is not None else {})
            notifier_class(
                config=cleaned["config"], allow_private=cleaned.get("allow_private", False)
            ).check_destinations()
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        return cleaned


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
    readonly_fields = ("consecutive_failures", "failing_since", "last_delivered_at", "log_link")
    fields = (
        "name",
        "kind",
        "config",
        "allow_private",
        "user",
        "enabled",
        "consecutive_failures",
        "failing_since",
        "last_delivered_at",
        "log_link",
    )
    actions = ["send_test"]

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
        return format_html('<a href="{}">Delivery log</a>', url)

    @action(description="Send a test notification through the selected channels")
    def send_test(self, request, queryset):
        # A list action is a CSRF-protected POST: a real message goes out, so never on a GET.
        for channel in queryset:
            attempt = channel_send_test(channel=channel, now=timezone.now())
            status = f"HTTP {attempt.status_code}" if attempt.status_code else ""
            if attempt.ok:
                messages.success(request, f"{channel}: test sent {status}".rstrip())
            else:
                messages.error(request, f"{channel}: test failed: {attempt.error}")


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
