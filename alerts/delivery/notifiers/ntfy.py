import json
import re
from typing import Any

from alerts.delivery.messages import Message
from alerts.delivery.notifiers import fields as f
from alerts.delivery.notifiers.base import Notifier, SendResult, config_error
from alerts.models import Severity

SERVER = "https://ntfy.sh"
TOPIC = re.compile(r"^[-_A-Za-z0-9]{1,64}$")
# ntfy's 1 (min) … 5 (max, a long vibration on the phone).
PRIORITIES = {Severity.CRITICAL: 5, Severity.HIGH: 4, Severity.MEDIUM: 3, Severity.LOW: 2}


class NtfyNotifier(Notifier):
    """An ntfy server (ntfy.sh or self-hosted): topic, priority from severity, optional access token."""

    kind = "ntfy"
    fields = {"server": False, "topic": True, "token_env": False}

    @classmethod
    def form_fields(cls) -> dict[str, Any]:
        return {
            "topic": f.text_field(placeholder="lookout-alerts"),
            "server": f.url_field(required=False, placeholder=SERVER, help_text="Empty: ntfy.sh."),
            "token_env": f.env_field(
                required=False, label="Access token variable", placeholder="NTFY_TOKEN", help_text="Optional."
            ),
        }

    @classmethod
    def clean(cls, config: dict[str, Any]) -> dict[str, Any]:
        if "server" in config:
            cls.check_url("server", config["server"])
        if not isinstance(config["topic"], str) or not TOPIC.match(config["topic"]):
            raise config_error("topic", "letters, digits, - and _ only, at most 64")
        return config

    def destinations(self) -> dict[str, str]:
        return {"server": self.config.get("server", SERVER)}

    def payload(self, message: Message) -> dict[str, Any]:
        return {
            "topic": self.config["topic"],
            "title": message.subject,
            "message": message.text[:4000],
            "priority": PRIORITIES[Severity(message.severity)] if message.firing else 2,
            "tags": ["white_check_mark" if not message.firing else "rotating_light", message.severity],
            "click": message.url,
            # ntfy shows up to three buttons: the first sources (target, issue, rule) in the portal.
            "actions": [
                {"action": "view", "label": f"{kind.capitalize()} {name}"[:40], "url": url, "clear": False}
                for kind, name, url in message.sources[:3]
            ],
        }

    def send(self, message: Message, *, idempotency_key: str) -> SendResult:
        headers = {"Authorization": f"Bearer {self.secret('token_env')}"} if self.config.get("token_env") else {}
        # Publishing as JSON goes to the server's root URL, the topic inside the body.
        return self.post(
            self.destinations()["server"],
            json.dumps(self.payload(message)).encode(),
            headers=headers,
            idempotency_key=idempotency_key,
        )
