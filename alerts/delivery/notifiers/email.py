import smtplib
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email

from alerts.delivery.messages import Message
from alerts.delivery.notifiers import fields as f
from alerts.delivery.notifiers.base import Notifier, NotifierError, SendResult, config_error


class EmailNotifier(Notifier):
    """Through Django's email backend (EMAIL_URL), to a list of addresses."""

    kind = "email"
    fields = {"to": True}

    @classmethod
    def clean(cls, config: dict[str, Any]) -> dict[str, Any]:
        to = config["to"]
        if isinstance(to, str):
            to = [part.strip() for part in to.split(",") if part.strip()]
        if not isinstance(to, list) or not to or not all(isinstance(address, str) for address in to):
            raise config_error("to", "must be a list of email addresses")
        for address in to:
            try:
                validate_email(address)
            except ValidationError:
                raise config_error("to", f"{address!r} is not an email address") from None
        return {**config, "to": to}

    @classmethod
    def form_fields(cls) -> dict[str, Any]:
        return {"to": f.AddressesField(label="To", help_text="One address per line, or separated by commas.")}

    def send(self, message: Message, *, idempotency_key: str) -> SendResult:
        domain = urlsplit(settings.SITE_URL).hostname or "lookout"
        email = EmailMultiAlternatives(
            subject=message.subject,
            body=message.text,
            to=self.config["to"],
            # One Message-ID per outbox row: a resend after a crash is the same mail to the client.
            headers={"Message-ID": f"<{idempotency_key}@{domain}>", "X-Lookout-Idempotency-Key": idempotency_key},
        )
        email.attach_alternative(message.html, "text/html")
        try:
            email.send()
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as exc:
            raise NotifierError(f"the mail server refused: {exc}", permanent=True) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise NotifierError(f"could not send mail: {exc}", permanent=False) from None
        return SendResult(response_excerpt=f"accepted for {len(self.config['to'])} recipient(s)")
