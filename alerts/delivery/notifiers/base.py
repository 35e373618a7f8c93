"""What every notifier shares: its config check, how it sends, and how it reports failure.

A notifier is one class per Channel.Kind. It is built from a channel, sends one Message
per call, and either returns a SendResult or raises NotifierError saying whether trying
again could help. Secrets are never in the config itself: it names environment variables.
"""

import json
import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Self

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from alerts.delivery import outbound
from alerts.delivery.messages import Message
from alerts.delivery.notifiers import fields as f

if TYPE_CHECKING:
    from django import forms

    from alerts.delivery.models import Channel

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Worth another try: the receiver is busy, rate-limiting or briefly broken.
RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class SendResult:
    status_code: int | None = None
    response_excerpt: str = ""
    duration_ms: int | None = None


class NotifierError(Exception):
    """A send that did not deliver. `permanent`: retrying the same thing cannot succeed."""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        status_code: int | None = None,
        response_excerpt: str = "",
        duration_ms: int | None = None,
        retry_after: int | None = None,
    ):
        super().__init__(message)
        self.permanent = permanent
        self.status_code = status_code
        self.response_excerpt = response_excerpt
        self.duration_ms = duration_ms
        self.retry_after = retry_after


def config_error(field: str, why: str) -> ValidationError:
    return ValidationError({"config": f"{field}: {why}"})


class Notifier:
    kind: ClassVar[str]
    # Keys the config may hold: name → required?
    fields: ClassVar[dict[str, bool]] = {}

    def __init__(self, *, config: dict[str, Any], allow_private: bool = False, name: str = ""):
        self.config = config
        self.allow_private = allow_private
        self.name = name

    @classmethod
    def from_channel(cls, channel: "Channel") -> Self:
        return cls(config=channel.config or {}, allow_private=channel.allow_private, name=channel.name)

    # --- configuration ------------------------------------------------------------------
    @classmethod
    def validate_config(cls, config: Any) -> dict[str, Any]:
        """The config, cleaned; ValidationError({"config": "field: why"}) naming the first bad field."""
        if not isinstance(config, dict):
            raise config_error("config", "must be a JSON object")
        for key in config:
            if key not in cls.fields:
                raise config_error(key, f"unknown field; {cls.kind} takes {', '.join(sorted(cls.fields))}")
        for key, required in cls.fields.items():
            if required and config.get(key) in (None, "", []):
                raise config_error(key, "required")
        cleaned = {key: value for key, value in config.items() if value not in (None, "")}
        for key, value in cleaned.items():
            if key.endswith("_env"):
                cls._check_env(key, value)
        return cls.clean(cleaned)

    @classmethod
    def clean(cls, config: dict[str, Any]) -> dict[str, Any]:
        """Kind-specific checks of an already shape-checked config."""
        return config

    @classmethod
    def form_fields(cls) -> "dict[str, forms.Field] | None":
        """The channel form's fields for this kind's config, keyed by config key, in order.

        None (the default) leaves the raw JSON config field only. The form
        (alerts.delivery.forms) prefixes the names, turns the cleaned values into a config
        with config_from_form and checks it with validate_config and check_destinations, the
        same path as the JSON behind "advanced"; each "key: why" lands on the key's field.
        A secret is a field naming an environment variable (fields.env_field), shown with
        the variable's presence, never its value."""
        return None

    @classmethod
    def config_from_form(cls, values: dict[str, Any]) -> dict[str, Any]:
        """The config from the fields' cleaned values: empty fields are left out."""
        return {key: value for key, value in values.items() if value not in (None, "", [])}

    @classmethod
    def form_initial(cls, config: dict[str, Any]) -> dict[str, Any]:
        """The fields' values for a stored config: the inverse of config_from_form."""
        return dict(config)

    @classmethod
    def _check_env(cls, field: str, name: Any) -> None:
        if not isinstance(name, str) or not ENV_NAME.match(name):
            raise config_error(field, "must name an environment variable, e.g. SLACK_ALERTS_WEBHOOK")
        if not os.environ.get(name):
            raise config_error(field, f"the environment variable {name} is not set")

    @staticmethod
    def check_url(field: str, value: Any) -> str:
        if not isinstance(value, str):
            raise config_error(field, "must be a URL")
        try:
            URLValidator(schemes=["http", "https"])(value)
        except ValidationError:
            raise config_error(field, "must be an http or https URL") from None
        return value

    def destinations(self) -> dict[str, str]:
        """Every URL this channel contacts, by the config field it comes from: checked when it is saved."""
        return {}

    def check_destinations(self) -> None:
        """ValidationError naming the field if a URL resolves to an address this channel may not reach."""
        for field, url in self.destinations().items():
            try:
                outbound.check_url(url, allow_private=self.allow_private)
            except outbound.OutboundError as exc:
                raise config_error(field, str(exc)) from None

    def secret(self, field: str) -> str:
        """The value of the environment variable named by config[field]; missing is a config error."""
        name = self.config.get(field, "")
        value = os.environ.get(name, "") if name else ""
        if not value:
            raise NotifierError(
                f"config: {field}: the environment variable {name or '(none)'} is not set", permanent=True
            )
        return value

    # --- sending ------------------------------------------------------------------------
    def send(self, message: Message, *, idempotency_key: str) -> SendResult:
        raise NotImplementedError

    def post(
        self,
        url: str,
        body: bytes,
        *,
        headers: dict[str, str],
        idempotency_key: str,
        content_type: str = "application/json",
    ) -> SendResult:
        """POST through the guarded helper; a non-2xx answer becomes a NotifierError."""
        try:
            response = outbound.request(
                "POST",
                url,
                body=body,
                allow_private=self.allow_private,
                headers={"Content-Type": content_type, "Idempotency-Key": idempotency_key, **headers},
            )
        except outbound.OutboundRefused as exc:
            raise NotifierError(str(exc), permanent=True) from None
        except outbound.OutboundError as exc:
            raise NotifierError(str(exc), permanent=False) from None
        if 200 <= response.status < 300:
            return SendResult(
                status_code=response.status, response_excerpt=response.excerpt, duration_ms=response.duration_ms
            )
        if 300 <= response.status < 400:
            why = f"HTTP {response.status}: redirects are not followed; set the final URL"
        else:
            why = f"HTTP {response.status}"
        raise NotifierError(
            why,
            permanent=response.status not in RETRYABLE_STATUSES,
            status_code=response.status,
            response_excerpt=response.excerpt,
            duration_ms=response.duration_ms,
            retry_after=response.retry_after,
        )


class UrlEnvNotifier(Notifier):
    """A service reached at a secret webhook URL held in the environment variable `url_env`."""

    fields = {"url_env": True}

    @classmethod
    def clean(cls, config: dict[str, Any]) -> dict[str, Any]:
        cls.check_url("url_env", os.environ[config["url_env"]])
        return config

    @classmethod
    def form_fields(cls) -> "dict[str, forms.Field] | None":
        return {
            "url_env": f.env_field(
                label="Webhook URL variable",
                placeholder=f"{cls.kind.upper()}_ALERTS_WEBHOOK",
                help_text="The environment variable holding the webhook URL (its token is the secret).",
            )
        }

    def destinations(self) -> dict[str, str]:
        return {"url_env": os.environ.get(self.config["url_env"], "")}

    def payload(self, message: Message) -> dict[str, Any]:
        raise NotImplementedError

    def send(self, message: Message, *, idempotency_key: str) -> SendResult:
        body = json.dumps(self.payload(message)).encode()
        return self.post(self.secret("url_env"), body, headers={}, idempotency_key=idempotency_key)
