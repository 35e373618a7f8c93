import json
import re
from typing import Any

from django.template.loader import render_to_string

from alerts.delivery.messages import Message
from alerts.delivery.notifiers import fields as f
from alerts.delivery.notifiers.base import Notifier, SendResult, config_error

API_URL = "https://api.telegram.org"
CHAT_ID = re.compile(r"^(-?\d+|@[A-Za-z][A-Za-z0-9_]{3,})$")


class TelegramNotifier(Notifier):
    """Telegram Bot API sendMessage, to a chat id or @channel, with the bot token from the environment."""

    kind = "telegram"
    fields = {"bot_token_env": True, "chat_id": True, "api_url": False}

    @classmethod
    def form_fields(cls) -> dict[str, Any]:
        return {
            "bot_token_env": f.env_field(label="Bot token variable", placeholder="TELEGRAM_BOT_TOKEN"),
            "chat_id": f.text_field(label="Chat", placeholder="-1001234567890 or @ops_alerts"),
            "api_url": f.url_field(required=False, label="API URL", placeholder=API_URL),
        }

    @classmethod
    def clean(cls, config: dict[str, Any]) -> dict[str, Any]:
        config["chat_id"] = str(config["chat_id"])
        if not CHAT_ID.match(config["chat_id"]):
            raise config_error("chat_id", "must be a numeric chat id or an @channel name")
        if "api_url" in config:
            cls.check_url("api_url", config["api_url"])
        return config

    def destinations(self) -> dict[str, str]:
        return {"api_url": self.config.get("api_url", API_URL)}

    def send(self, message: Message, *, idempotency_key: str) -> SendResult:
        text = render_to_string("alerts/notifications/telegram.html", {**message.context(), "subject": message.subject})
        body = json.dumps(
            {
                "chat_id": self.config["chat_id"],
                "text": text.strip()[:4096],
                "parse_mode": "HTML",
                "disable_web_page_preview": True,
            }
        ).encode()
        # The token is part of the path: it never appears in errors, which name only the host.
        url = f"{self.destinations()['api_url'].rstrip('/')}/bot{self.secret('bot_token_env')}/sendMessage"
        return self.post(url, body, headers={}, idempotency_key=idempotency_key)
