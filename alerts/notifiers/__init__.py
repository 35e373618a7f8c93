"""One notifier class per Channel.Kind, looked up in NOTIFIERS."""

from alerts.notifiers.base import Notifier, NotifierError, SendResult
from alerts.notifiers.discord import DiscordNotifier
from alerts.notifiers.email import EmailNotifier
from alerts.notifiers.ntfy import NtfyNotifier
from alerts.notifiers.pagerduty import PagerDutyNotifier
from alerts.notifiers.slack import SlackNotifier
from alerts.notifiers.teams import TeamsNotifier
from alerts.notifiers.telegram import TelegramNotifier
from alerts.notifiers.webhook import WebhookNotifier

NOTIFIERS: dict[str, type[Notifier]] = {
    cls.kind: cls
    for cls in (EmailNotifier, SlackNotifier, TeamsNotifier, DiscordNotifier, WebhookNotifier, PagerDutyNotifier,
                TelegramNotifier, NtfyNotifier)
}

__all__ = ["NOTIFIERS", "Notifier", "NotifierError", "SendResult"]
