"""One notifier class per Channel.Kind, looked up in NOTIFIERS."""

from alerts.delivery.notifiers.base import Notifier, NotifierError, SendResult
from alerts.delivery.notifiers.discord import DiscordNotifier
from alerts.delivery.notifiers.email import EmailNotifier
from alerts.delivery.notifiers.ntfy import NtfyNotifier
from alerts.delivery.notifiers.pagerduty import PagerDutyNotifier
from alerts.delivery.notifiers.slack import SlackNotifier
from alerts.delivery.notifiers.teams import TeamsNotifier
from alerts.delivery.notifiers.telegram import TelegramNotifier
from alerts.delivery.notifiers.webhook import WebhookNotifier

NOTIFIERS: dict[str, type[Notifier]] = {
    cls.kind: cls
    for cls in (
        EmailNotifier,
        SlackNotifier,
        TeamsNotifier,
        DiscordNotifier,
        WebhookNotifier,
        PagerDutyNotifier,
        TelegramNotifier,
        NtfyNotifier,
    )
}

__all__ = ["NOTIFIERS", "Notifier", "NotifierError", "SendResult"]
