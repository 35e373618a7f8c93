import json
from typing import Any

from alerts.delivery.messages import Message
from alerts.delivery.notifiers import fields as f
from alerts.delivery.notifiers.base import Notifier, SendResult
from alerts.models import IncidentEvent, Severity

EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
SEVERITIES = {Severity.CRITICAL: "critical", Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "info"}
# Keyed by the message's event, a plain string: choices compare equal to their values.
ACTIONS: dict[str, str] = {IncidentEvent.Kind.ACKNOWLEDGED: "acknowledge", IncidentEvent.Kind.RESOLVED: "resolve"}


class PagerDutyNotifier(Notifier):
    """PagerDuty Events API v2: one PagerDuty incident per Lookout incident, keyed by its dedup key.

    PagerDuty folds events with the same dedup_key into one incident, which also makes a resend
    after a crash harmless.
    """

    kind = "pagerduty"
    fields = {"routing_key_env": True, "url": False}

    @classmethod
    def form_fields(cls) -> dict[str, Any]:
        return {
            "routing_key_env": f.env_field(
                label="Routing key variable", placeholder="PAGERDUTY_ROUTING_KEY", help_text="The Events API v2 key."
            ),
            "url": f.url_field(required=False, label="Events URL", placeholder=EVENTS_URL),
        }

    @classmethod
    def clean(cls, config: dict[str, Any]) -> dict[str, Any]:
        if "url" in config:
            cls.check_url("url", config["url"])
        return config

    def destinations(self) -> dict[str, str]:
        return {"url": self.config.get("url", EVENTS_URL)}

    def payload(self, message: Message) -> dict[str, Any]:
        action = ACTIONS.get(message.event, "trigger")
        payload: dict[str, Any] = {
            "routing_key": self.secret("routing_key_env"),
            "event_action": action,
            "dedup_key": message.dedup_key[:255],
        }
        if action == "trigger":
            payload["payload"] = {
                "summary": message.subject[:1024],
                "source": message.labels.get("target") or message.labels.get("project") or "lookout",
                "severity": SEVERITIES[Severity(message.severity)],
                "timestamp": message.at.isoformat(),
                "custom_details": {"summary": message.summary, "labels": message.labels},
            }
            payload["links"] = [{"href": message.url, "text": "Open in Lookout"}]
            payload["client"], payload["client_url"] = "Lookout", message.url
        return payload

    def send(self, message: Message, *, idempotency_key: str) -> SendResult:
        body = json.dumps(self.payload(message)).encode()
        return self.post(self.destinations()["url"], body, headers={}, idempotency_key=idempotency_key)
