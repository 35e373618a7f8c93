from typing import Any

from alerts.delivery.messages import Message
from alerts.delivery.notifiers.base import UrlEnvNotifier


def _escape(text: str) -> str:
    # Slack's mrkdwn treats these three as markup; everything else is literal.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class SlackNotifier(UrlEnvNotifier):
    """A Slack incoming webhook: one webhook, so one Slack channel (#alerts, #monitoring…), per channel."""

    kind = "slack"

    def payload(self, message: Message) -> dict[str, Any]:
        headline = f"*<{message.url}|{_escape(message.subject)}>*"
        details = "\n".join(_escape(part) for part in (message.summary, message.event_message) if part)
        # What it is about, one click away: the target, issue or rule in the portal.
        links = " · ".join(f"{kind.capitalize()} <{url}|{_escape(name)}>" for kind, name, url in message.sources)
        details = "\n".join(filter(None, (details, links)))
        blocks: list[dict[str, Any]] = [
            {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(filter(None, (headline, details)))}}
        ]
        if message.labels:
            labels = "  ".join(f"`{_escape(k)}={_escape(v)}`" for k, v in message.labels.items())
            blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": labels[:2900]}]})
        # `text` is what notifications and old clients show instead of the blocks.
        return {"text": message.subject, "blocks": blocks}
