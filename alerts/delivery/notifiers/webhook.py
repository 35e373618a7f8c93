import hashlib
import hmac
import json
import os
from datetime import datetime
from typing import Any

from django.template import Context, Engine, TemplateSyntaxError

from alerts.delivery.messages import Message
from alerts.delivery.notifiers import fields as f
from alerts.delivery.notifiers.base import Notifier, SendResult, config_error

FORMATS = ("alertmanager", "template")
SIGNATURE_HEADER = "X-Lookout-Signature"
# A bare engine: no loaders, so a body template cannot include files from the server,
# and no HTML escaping, since the body is usually JSON or plain text.
TEMPLATE_ENGINE = Engine(autoescape=False)


def signature(secret: str, body: bytes) -> str:
    """The value of X-Lookout-Signature: HMAC-SHA256 of the exact body bytes, hex."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _iso(value: datetime | None) -> str:
    return value.isoformat().replace("+00:00", "Z") if value else "0001-01-01T00:00:00Z"


def alertmanager_payload(message: Message) -> dict[str, Any]:
    """The body Alertmanager's webhook receiver posts (version 4), so anything that takes it takes ours."""
    alerts = [
        {
            "status": alert.status,
            "labels": alert.labels,
            "annotations": {"summary": alert.summary} if alert.summary else {},
            "startsAt": _iso(alert.starts_at),
            "endsAt": _iso(alert.ends_at),
            "generatorURL": message.url,
            "fingerprint": alert.fingerprint,
        }
        for alert in message.alerts
    ]
    common_labels = dict(message.labels)
    return {
        "version": "4",
        "groupKey": message.dedup_key,
        "truncatedAlerts": 0,
        "status": "firing" if message.firing else "resolved",
        "receiver": message.receiver,
        "groupLabels": common_labels,
        "commonLabels": common_labels,
        "commonAnnotations": {"summary": message.summary} if message.summary else {},
        "externalURL": message.url.split("/admin/", 1)[0],
        "alerts": alerts,
    }


class WebhookNotifier(Notifier):
    """Any HTTP endpoint: Alertmanager v4 JSON or a body from a template, signed with HMAC-SHA256."""

    kind = "webhook"
    fields = {
        "url": False,
        "url_env": False,
        "format": False,
        "template": False,
        "content_type": False,
        "secret_env": False,
    }

    @classmethod
    def clean(cls, config: dict[str, Any]) -> dict[str, Any]:
        if ("url" in config) == ("url_env" in config):
            raise config_error("url", "give either url or url_env (the variable holding a URL with a token)")
        cls.check_url(
            "url" if "url" in config else "url_env", config["url"] if "url" in config else os.environ[config["url_env"]]
        )
        fmt = config.setdefault("format", "alertmanager")
        if fmt not in FORMATS:
            raise config_error("format", f"must be one of {', '.join(FORMATS)}")
        if fmt == "template":
            if not isinstance(config.get("template"), str) or not config["template"].strip():
                raise config_error("template", "required when format is template")
            try:
                TEMPLATE_ENGINE.from_string(config["template"])
            except TemplateSyntaxError as exc:
                raise config_error("template", str(exc)) from None
        elif "template" in config:
            raise config_error("template", "only used when format is template")
        if not isinstance(config.get("content_type", ""), str):
            raise config_error("content_type", "must be a media type, e.g. application/json")
        return config

    @classmethod
    def form_fields(cls) -> dict[str, Any]:
        return {
            "url": f.url_field(required=False, label="URL", help_text="Or, if the URL holds a token, the variable:"),
            "url_env": f.env_field(required=False, label="URL variable", placeholder="ORDERS_WEBHOOK_URL"),
            "format": f.choice_field(
                [("alertmanager", "Alertmanager v4 JSON"), ("template", "a body from the template below")],
                initial="alertmanager",
            ),
            "template": f.textarea_field(
                required=False, help_text="Django template syntax, e.g. {{ subject }}; only for the template format."
            ),
            "content_type": f.text_field(required=False, placeholder="application/json", label="Content type"),
            "secret_env": f.env_field(
                required=False,
                label="Signing secret variable",
                placeholder="ORDERS_WEBHOOK_SECRET",
                help_text="Optional: signs each body with HMAC-SHA256 in X-Lookout-Signature.",
            ),
        }

    def url(self) -> str:
        return self.config["url"] if "url" in self.config else self.secret("url_env")

    def destinations(self) -> dict[str, str]:
        if "url" in self.config:
            return {"url": self.config["url"]}
        return {"url_env": os.environ.get(self.config["url_env"], "")}

    def body(self, message: Message) -> tuple[bytes, str]:
        if self.config.get("format", "alertmanager") == "template":
            text = TEMPLATE_ENGINE.from_string(self.config["template"]).render(Context(message.context()))
            return text.encode(), self.config.get("content_type", "application/json")
        return json.dumps(alertmanager_payload(message)).encode(), "application/json"

    def send(self, message: Message, *, idempotency_key: str) -> SendResult:
        body, content_type = self.body(message)
        headers = {"X-Lookout-Event": message.event}
        if self.config.get("secret_env"):
            headers[SIGNATURE_HEADER] = signature(self.secret("secret_env"), body)
        return self.post(self.url(), body, headers=headers, idempotency_key=idempotency_key, content_type=content_type)
