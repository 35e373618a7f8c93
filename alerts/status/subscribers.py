"""Status page subscribers: signing up, what they are told, and sending it.

Signing up. An email address is stored unconfirmed and sent a confirmation link; it hears
nothing else until that link is followed (double opt-in). Both that link and the unsubscribe
link in every notice are signed (django.core.signing), so neither needs a stored token and
neither can be forged for another address. A webhook URL is confirmed at once but must pass
the outbound private-address rule (alerts.delivery.outbound), when it signs up and at every
send. Whatever the address's state, the answer to a sign-up is the same, and a repeat faster
than the limit is refused the same way: nobody learns from it whether an address subscribes.

What they are told. Each thing told (a public incident update, a maintenance, a confirmation
request) is a SubscriberNotice row per subscriber with a unique topic, written by
bulk_create(ignore_conflicts): the fan-out may run any number of times, each subscriber
hears of each thing once. The message is frozen on the row when it is written.

Sending follows the notification outbox's protocol (alerts/delivery/services/sending.py),
on its own table because those rows belong to an incident and a channel: a row is claimed
by one conditional UPDATE with a lease, sent under its idempotency key (a Message-ID for
mail, an Idempotency-Key header for webhooks), and settled by the claim that sent it;
failures retry with the same backoff and attempt limit as channels.
"""

import hashlib
import json
import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse

from alerts.delivery import outbound
from alerts.delivery.notifiers.base import RETRYABLE_STATUSES
from alerts.delivery.services.leases import outbox_claim, outbox_due_ids
from alerts.delivery.services.nudges import nudge_after_commit
from alerts.delivery.services.sending import retry_delay
from alerts.status.models import PublicIncidentUpdate, StatusPage, Subscriber, SubscriberNotice

log = logging.getLogger(__name__)

DELIVER_TASK = "status.deliver_notices"
CONFIRM_SALT = "lookout.status.confirm"
UNSUBSCRIBE_SALT = "lookout.status.unsubscribe"
# A confirmation link works this long; unconfirmed addresses are forgotten after it.
CONFIRM_MAX_AGE = timedelta(days=7)
# One sign-up per address and page a minute, and a burst of 5 (then one every 12 minutes) per
# client address: enough for a person, too little to mail-bomb someone through the page.
ADDRESS_RATE, ADDRESS_BURST = 1 / 60, 1
CLIENT_RATE, CLIENT_BURST = 1 / 720, 5
ERROR_CHARS = 500


class SubscribeError(Exception):
    """A sign-up refused: `field` names what was wrong, `status` is the HTTP answer."""

    def __init__(self, message: str, *, field: str, status: int = 400, retry_after: int | None = None):
        super().__init__(message)
        self.field, self.status, self.retry_after = field, status, retry_after


def webhooks_may_reach_private() -> bool:
    return settings.STATUS_WEBHOOKS_ALLOW_PRIVATE


def absolute(name: str, *args: Any) -> str:
    """The portal's URL of a status route: the portal's own routes even in a request that came
    to a custom domain (whose URLconf has no slug), since mail is read anywhere."""
    return settings.SITE_URL.rstrip("/") + reverse(name, args=args, urlconf=settings.ROOT_URLCONF)


def confirm_token(subscriber: Subscriber) -> str:
    return signing.dumps({"s": subscriber.pk, "a": subscriber.address}, salt=CONFIRM_SALT)


def unsubscribe_token(subscriber: Subscriber) -> str:
    return signing.dumps({"s": subscriber.pk, "a": subscriber.address}, salt=UNSUBSCRIBE_SALT)


def unsubscribe_url(subscriber: Subscriber, slug: str) -> str:
    return absolute("status:unsubscribe", slug, unsubscribe_token(subscriber))


def subscriber_from_token(*, token: str, page: StatusPage, confirm: bool) -> Subscriber | None:
    """The subscriber a signed link names, or None if the link is bad, expired or already used up."""
    try:
        if confirm:
            data = signing.loads(token, salt=CONFIRM_SALT, max_age=CONFIRM_MAX_AGE)
        else:
            data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:  # SignatureExpired is one
        return None
    if not isinstance(data, dict) or not isinstance(data.get("s"), int):
        return None
    return Subscriber.objects.filter(pk=data["s"], address=data.get("a"), page=page).first()


# --- signing up ---------------------------------------------------------------------------


def subscribe(*, page: StatusPage, kind: str, address: str, client: str, now: datetime) -> None:
    """Sign `address` up (an email waits for its confirmation); SubscribeError if refused.

    Returns nothing on purpose: the caller answers the same whether the address was new,
    waiting for confirmation or already confirmed."""
    address = address.strip()
    if kind == Subscriber.Kind.EMAIL:
        address = address.lower()
        try:
            validate_email(address)
        except ValidationError:
            raise SubscribeError("Enter a valid email address.", field="email") from None
    elif kind == Subscriber.Kind.WEBHOOK:
        if len(address) > 2000:
            raise SubscribeError("The URL is longer than 2000 characters.", field="url")
        try:
            outbound.check_url(address, allow_private=webhooks_may_reach_private())
        except outbound.OutboundError as exc:
            raise SubscribeError(f"This URL cannot be used: {exc}.", field="url") from None
    else:
        raise SubscribeError("Choose email or webhook.", field="kind")
    field = "email" if kind == Subscriber.Kind.EMAIL else "url"
    # Imported here: it imports prometheus_client, which must wait for monitoring.metrics
    # (MonitoringConfig.ready), and this module is reached from the admin's autodiscovery.
    from monitoring.common.ratelimit import token_bucket_take

    digest = hashlib.sha256(f"{page.pk}:{kind}:{address}".encode()).hexdigest()
    for bucket, rate, burst in (
        (f"status-subscribe:{digest}", ADDRESS_RATE, ADDRESS_BURST),
        (f"status-subscribe-client:{client}", CLIENT_RATE, CLIENT_BURST),
    ):
        wait = token_bucket_take(bucket=bucket, rate=rate, burst=burst)
        if wait:
            raise SubscribeError(
                f"Too many subscription requests; try again in {wait} seconds.",
                field=field,
                status=429,
                retry_after=wait,
            )
    with transaction.atomic():
        subscriber, _ = Subscriber.objects.get_or_create(
            page=page,
            kind=kind,
            address=address,
            defaults={"confirmed_at": now if kind == Subscriber.Kind.WEBHOOK else None, "created_at": now},
        )
        if subscriber.confirmed_at is None:
            # Asked again: a fresh link, as the first mail may be lost. Rate-limited above.
            link = absolute("status:confirm", page.slug, confirm_token(subscriber))
            notices_write(
                subscribers=[subscriber],
                topic=f"confirm:{int(now.timestamp() * 1000)}",
                message=_confirm_message(page, link),
                page=page,
                now=now,
            )


def subscription_confirm(*, subscriber: Subscriber, now: datetime) -> None:
    Subscriber.objects.filter(pk=subscriber.pk, confirmed_at=None).update(confirmed_at=now)


def unsubscribe(*, subscriber: Subscriber) -> None:
    """Forget the subscriber, and with it what it was still to be told."""
    subscriber.delete()


def unconfirmed_forget(*, now: datetime) -> int:
    """Addresses that never confirmed are not kept past their link's life."""
    deleted, _ = Subscriber.objects.filter(confirmed_at=None, created_at__lt=now - CONFIRM_MAX_AGE).delete()
    return deleted


# --- what they are told -------------------------------------------------------------------


def _confirm_message(page: StatusPage, link: str) -> dict[str, Any]:
    return {
        "event": "subscription.confirm",
        "subject": f"Confirm your subscription to {page.title} status",
        "text": (
            f"Someone (we hope you) asked to be emailed about incidents and maintenance on {page.title}.\n\n"
            f"Confirm here: {link}\n\nIf it was not you, ignore this mail: nothing more will be sent."
        ),
        "url": absolute("status:page", page.slug),
    }


def update_message(*, update: PublicIncidentUpdate, page: StatusPage) -> dict[str, Any]:
    incident = update.incident
    url = absolute("status:page", page.slug) + f"#incident-{incident.pk}"
    status = update.get_status_display()
    return {
        "event": "incident.update",
        "subject": f"[{page.title}] {incident.name}: {status}",
        "text": f"{incident.name}\n{status}: {update.body}\n\n{url}",
        "url": url,
        "incident": {
            "id": str(incident.pk),
            "name": incident.name,
            "impact": incident.impact,
            "status": update.status,
            "update": {"id": str(update.pk), "status": update.status, "body": update.body},
            "created_at": update.created_at.isoformat(),
        },
    }


def maintenance_message(*, item: dict[str, Any], page: StatusPage) -> dict[str, Any]:
    url = absolute("status:page", page.slug) + "#maintenance"
    names = ", ".join(c["name"] for c in item["components"])
    return {
        "event": "maintenance.scheduled",
        "subject": f"[{page.title}] Maintenance: {item['name']}",
        "text": f"{item['name']}\n{item['when_label']}\nAffects {names}\n\n{url}",
        "url": url,
        "maintenance": {
            "id": item["id"],
            "name": item["name"],
            "scheduled_for": item["scheduled_for"],
            "scheduled_until": item["scheduled_until"],
            "components": item["components"],
        },
    }


def notices_write(
    *, subscribers: list[Subscriber], topic: str, message: dict[str, Any], page: StatusPage, now: datetime
) -> int:
    """One notice of `topic` per subscriber that has none yet; returns how many were new."""
    if not subscribers:
        return 0
    page_info = {"id": page.slug, "name": page.title, "url": absolute("status:page", page.slug)}
    rows = [
        SubscriberNotice(
            subscriber=subscriber,
            topic=topic,
            idempotency_key=hashlib.sha256(f"lookout:status:{subscriber.pk}:{topic}".encode()).hexdigest(),
            payload={**message, "page": page_info, "unsubscribe_url": unsubscribe_url(subscriber, page.slug)},
            next_attempt_at=now,
            created_at=now,
        )
        for subscriber in subscribers
    ]
    existing = set(
        SubscriberNotice.objects.filter(subscriber__in=subscribers, topic=topic).values_list("subscriber_id", flat=True)
    )
    SubscriberNotice.objects.bulk_create(rows, ignore_conflicts=True)
    fresh = [s.pk for s in subscribers if s.pk not in existing]
    if fresh:
        nudge_after_commit(
            DELIVER_TASK,
            args=[
                list(SubscriberNotice.objects.filter(subscriber_id__in=fresh, topic=topic).values_list("pk", flat=True))
            ],
            queue="notify",
        )
    return len(fresh)


def confirmed(page_id: int) -> list[Subscriber]:
    return list(Subscriber.objects.filter(page_id=page_id).exclude(confirmed_at=None))


def update_announce(*, update: PublicIncidentUpdate, now: datetime) -> int:
    """Tell the page's confirmed subscribers about a public incident update (in the caller's transaction)."""
    page = StatusPage.objects.get(pk=update.incident.page_id)
    return notices_write(
        subscribers=confirmed(page.pk),
        topic=f"update:{update.pk}",
        message=update_message(update=update, page=page),
        page=page,
        now=now,
    )


def maintenances_announce(*, now: datetime) -> int:
    """Tell every page's subscribers of the maintenance the page shows (coming or under way),
    once per occurrence. A beat tick: maintenance windows are written by the incidents feature."""
    from alerts.status.selectors import page_snapshot

    told = 0
    pages = StatusPage.objects.filter(subscribers__confirmed_at__isnull=False).distinct()
    for page in pages:
        items = page_snapshot(page=page)["maintenances"]
        if not items:
            continue
        subscribers = confirmed(page.pk)
        for item in items:
            with transaction.atomic():
                told += notices_write(
                    subscribers=subscribers,
                    topic=f"maintenance:{item['id']}",
                    message=maintenance_message(item=item, page=page),
                    page=page,
                    now=now,
                )
    return told


# --- sending ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Outcome:
    ok: bool
    error: str = ""
    permanent: bool = False
    retry_after: int | None = None


class EmailSender:
    """Through Django's email backend, with the List-Unsubscribe headers mail clients act on."""

    @staticmethod
    def send(notice: SubscriberNotice) -> _Outcome:
        payload = notice.payload
        domain = urlsplit(settings.SITE_URL).hostname or "lookout"
        text = payload["text"] + f"\n\nUnsubscribe: {payload['unsubscribe_url']}"
        email = EmailMessage(
            subject=payload["subject"],
            body=text,
            to=[notice.subscriber.address],
            headers={
                # The same Message-ID on every attempt: a resend after a crash is one mail to the client.
                "Message-ID": f"<{notice.idempotency_key}@{domain}>",
                "List-Unsubscribe": f"<{payload['unsubscribe_url']}>",
                # RFC 8058: the mail client's own button POSTs to the link, no page in between.
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        )
        try:
            email.send()
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as exc:
            return _Outcome(False, f"the mail server refused: {exc}", permanent=True)
        except (smtplib.SMTPException, OSError) as exc:
            return _Outcome(False, f"could not send mail: {exc}")
        return _Outcome(True)


class WebhookSender:
    """A JSON POST, checked against the private-address rule at every send (DNS may change)."""

    @staticmethod
    def send(notice: SubscriberNotice) -> _Outcome:
        body = json.dumps(notice.payload, separators=(",", ":")).encode()
        try:
            response = outbound.request(
                "POST",
                notice.subscriber.address,
                body=body,
                headers={"Content-Type": "application/json", "Idempotency-Key": notice.idempotency_key},
                allow_private=webhooks_may_reach_private(),
            )
        except outbound.OutboundRefused as exc:
            return _Outcome(False, str(exc), permanent=True)
        except outbound.OutboundError as exc:
            return _Outcome(False, str(exc))
        if response.status < 300:
            return _Outcome(True)
        return _Outcome(
            False,
            f"HTTP {response.status}: {response.excerpt}",
            permanent=response.status not in RETRYABLE_STATUSES,
            retry_after=response.retry_after,
        )


SENDERS: dict[str, type[EmailSender] | type[WebhookSender]] = {
    Subscriber.Kind.EMAIL: EmailSender,
    Subscriber.Kind.WEBHOOK: WebhookSender,
}


def notices_deliver_due(*, now: datetime, limit: int | None = None) -> int:
    return notices_deliver(notice_ids=outbox_due_ids(SubscriberNotice, now=now, limit=limit), now=now)


def notices_deliver(*, notice_ids: list[int], now: datetime) -> int:
    """Send those of these notices that are due and unclaimed; returns how many were delivered."""
    delivered = 0
    for notice_id in notice_ids:
        notice = notice_deliver(notice_id=notice_id, now=now)
        delivered += bool(notice and notice.status == SubscriberNotice.Status.DELIVERED)
    return delivered


def notice_deliver(*, notice_id: int, now: datetime) -> SubscriberNotice | None:
    if not outbox_claim(SubscriberNotice, pk=notice_id, now=now):
        return None
    notice = SubscriberNotice.objects.select_related("subscriber").filter(pk=notice_id).first()
    if notice is None:  # unsubscribed in the meantime
        return None
    try:
        outcome = SENDERS[notice.subscriber.kind].send(notice)
    except Exception as exc:  # a bug must not leave the row claimed until its lease ends
        log.exception("status notice %s raised", notice_id)
        outcome = _Outcome(False, f"internal error: {type(exc).__name__}: {exc}")
    attempt = notice.attempts
    if outcome.ok:
        changes: dict[str, Any] = {
            "status": SubscriberNotice.Status.DELIVERED,
            "delivered_at": now,
            "next_attempt_at": None,
        }
    elif outcome.permanent or attempt >= settings.ALERTS_DELIVERY_MAX_ATTEMPTS:
        changes = {"status": SubscriberNotice.Status.FAILED, "next_attempt_at": None}
    else:
        changes = {
            "status": SubscriberNotice.Status.PENDING,
            "next_attempt_at": now + retry_delay(attempts=attempt, retry_after=outcome.retry_after),
        }
    # Only this claim's own result: a worker whose lease ran out must not undo a newer claim.
    SubscriberNotice.objects.filter(pk=notice.pk, status=SubscriberNotice.Status.SENDING, attempts=attempt).update(
        lease_until=None, last_error=outcome.error[:ERROR_CHARS], **changes
    )
    notice.refresh_from_db()
    return notice
