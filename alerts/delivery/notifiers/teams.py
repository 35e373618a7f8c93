from typing import Any

from alerts.delivery.messages import Message
from alerts.delivery.notifiers.base import UrlEnvNotifier

# Adaptive Card text colours by tier.
COLOURS = {"critical": "Attention", "warning": "Warning", "info": "Accent"}


class TeamsNotifier(UrlEnvNotifier):
    """A Microsoft Teams workflow ("Post to a channel when a webhook request is received"): an Adaptive Card."""

    kind = "teams"

    def payload(self, message: Message) -> dict[str, Any]:
        body = [
            {
                "type": "TextBlock",
                "text": message.subject,
                "weight": "Bolder",
                "size": "Medium",
                "wrap": True,
                "color": "Good" if not message.firing else COLOURS[message.tier],
            },
            {
                "type": "TextBlock",
                "text": f"{message.status} · {message.severity} · {message.at:%Y-%m-%d %H:%M:%S %Z}",
                "isSubtle": True,
                "spacing": "None",
                "wrap": True,
            },
        ]
        for part in (message.summary, message.event_message):
            if part:
                body.append({"type": "TextBlock", "text": part, "wrap": True})
        if message.labels:
            body.append({"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in message.labels.items()]})
        card = {
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "body": body,
            "actions": [
                {"type": "Action.OpenUrl", "title": "Open in Lookout", "url": message.url},
                # The target, issue or rule it is about, each a button of its own.
                *(
                    {"type": "Action.OpenUrl", "title": f"{kind.capitalize()} {name}"[:100], "url": url}
                    for kind, name, url in message.sources
                ),
            ],
        }
        return {
            "type": "message",
            "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}],
        }
