from typing import Any

from alerts.delivery.messages import Message
from alerts.delivery.notifiers.base import UrlEnvNotifier

COLOURS = {"critical": 0xD7263D, "warning": 0xF4A259, "info": 0x4F86C6}
RESOLVED_COLOUR = 0x3BB273


def _escape(text: str) -> str:
    # A name with brackets would end the markdown link early.
    return text.replace("[", "(").replace("]", ")")


class DiscordNotifier(UrlEnvNotifier):
    """A Discord channel webhook: one embed per notification."""

    kind = "discord"

    def payload(self, message: Message) -> dict[str, Any]:
        links = " · ".join(f"{kind.capitalize()} [{_escape(name)}]({url})" for kind, name, url in message.sources)
        description = "\n\n".join(part for part in (message.summary, message.event_message, links) if part)
        embed = {
            "title": message.subject[:256],
            "url": message.url,
            "description": description[:4096],
            "color": COLOURS[message.tier] if message.firing else RESOLVED_COLOUR,
            "timestamp": message.at.isoformat(),
            "fields": [
                {"name": k[:256], "value": v[:1024] or "—", "inline": True}
                for k, v in list(message.labels.items())[:25]
            ],
        }
        # Label values are outside text: never let them ping @everyone or a role.
        return {"username": "Lookout", "embeds": [embed], "allowed_mentions": {"parse": []}}
