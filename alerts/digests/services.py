"""Composing digests into their outbox and sending it, with the notification outbox's protocol.

Composing: for the newest closed day or week, every opt-in without a row for that period
gets one, its mail rendered and frozen on it. The row is unique per opt-in and period and
its key is derived from them, so composing twice (a second beat tick, two workers) writes
nothing more. A project's figures are read once per period whatever the number of its
readers; only the greeting differs.

Sending (alerts/delivery/services/sending.py does the same for notifications): a row is
claimed by one conditional UPDATE (due, and pending or with an expired lease → sending,
with a lease); a worker killed mid-send leaves a row that becomes due again, and the resend
carries the same Message-ID, so the mail client shows one digest. Failures retry with the
delivery backoff until ALERTS_DELIVERY_MAX_ATTEMPTS; a refused recipient fails at once.
"""

import hashlib
import logging
import smtplib
from collections import defaultdict
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from alerts.delivery.services.leases import outbox_claim, outbox_due_ids
from alerts.delivery.services.nudges import nudge_after_commit
from alerts.delivery.services.sending import retry_delay
from alerts.digests.selectors import Digest, Period, absolute, digest_build, period_closed
from alerts.models import Cadence, DigestDelivery, DigestSubscription
from monitoring.common.formatting import human_duration

log = logging.getLogger(__name__)

VIEW_PROJECT = "monitoring.view_project"

DELIVER_TASK = "digests.deliver"
# Hour rollups of the period's last hour are written a minute or so after it ends; composing
# this long after the period leaves them time.
COMPOSE_DELAY = timedelta(minutes=15)
ERROR_CHARS = 500


def delivery_key(*, subscription_id: int, period: Period) -> str:
    return hashlib.sha256(f"lookout:digest:{subscription_id}:{period.start.isoformat()}".encode()).hexdigest()


def digests_compose_due(*, now: datetime) -> int:
    """Compose the newest closed period of each cadence for the opt-ins still without it; returns rows written."""
    return sum(digests_compose(cadence=cadence, now=now) for cadence in Cadence.values)


def digests_compose(*, cadence: str, now: datetime) -> int:
    period = period_closed(cadence=cadence, now=now - COMPOSE_DELAY)
    # Only those who may still see projects: a role taken away since the opt-in stops the mail.
    readers = get_user_model().objects.with_perm(VIEW_PROJECT, backend="django.contrib.auth.backends.ModelBackend")
    waiting = (
        DigestSubscription.objects.filter(cadence=cadence, user__is_staff=True, user__in=readers)
        .exclude(user__email="")
        .exclude(deliveries__period_start=period.start)
        .select_related("user", "project")
        .order_by("project_id", "pk")
    )
    by_project: defaultdict[int, list[DigestSubscription]] = defaultdict(list)
    for subscription in waiting:
        by_project[subscription.project_id].append(subscription)
    rows = []
    for subscriptions in by_project.values():
        digest = digest_build(project=subscriptions[0].project, period=period, now=now)
        for subscription in subscriptions:
            subject, text, html = digest_render(digest=digest, subscription=subscription)
            rows.append(
                DigestDelivery(
                    subscription=subscription,
                    period_start=period.start,
                    period_end=period.end,
                    idempotency_key=delivery_key(subscription_id=subscription.pk, period=period),
                    to=subscription.user.email,
                    subject=subject,
                    text=text,
                    html=html,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
    if not rows:
        return 0
    # A concurrent compose may have written some of these: the unique key keeps theirs.
    DigestDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    pending = list(
        DigestDelivery.objects.filter(
            idempotency_key__in=[r.idempotency_key for r in rows], status=DigestDelivery.Status.PENDING
        ).values_list("pk", flat=True)
    )
    if pending:
        nudge_after_commit(DELIVER_TASK, args=[pending], queue="notify")
    return len(rows)


def digest_render(*, digest: Digest, subscription: DigestSubscription) -> tuple[str, str, str]:
    """(subject, text, html) of one reader's digest."""
    context = {
        "digest": digest,
        "mtta": human_duration(digest.response.mtta),
        "mttr": human_duration(digest.response.mttr),
        "incidents": [(i, human_duration(i.time_to_ack), human_duration(i.time_to_resolve)) for i in digest.incidents],
        "reader": subscription.user.get_full_name() or subscription.user.get_username(),
        "cadence": subscription.get_cadence_display(),
        "manage_url": absolute(reverse("admin:alerts_digestsubscription_changelist")),
    }
    subject = f"[Lookout] {subscription.get_cadence_display()} digest: {digest.project.name}, {digest.period.label}"
    text = render_to_string("alerts/digests/digest.txt", context)
    html = render_to_string("alerts/digests/digest.html", context)
    return subject[:300], text, html


def digests_deliver_due(*, now: datetime, limit: int | None = None) -> int:
    """Send every due digest (new, retry due, or lease expired), up to `limit`; returns how many were delivered."""
    return digests_deliver(delivery_ids=outbox_due_ids(DigestDelivery, now=now, limit=limit), now=now)


def digests_deliver(*, delivery_ids: list[int], now: datetime) -> int:
    delivered = 0
    for delivery_id in delivery_ids:
        delivery = digest_deliver(delivery_id=delivery_id, now=now)
        delivered += bool(delivery and delivery.status == DigestDelivery.Status.DELIVERED)
    return delivered


def digest_deliver(*, delivery_id: int, now: datetime) -> DigestDelivery | None:
    """Claim one row and send it; None when it is not due or another worker holds it."""
    if not outbox_claim(DigestDelivery, pk=delivery_id, now=now):
        return None
    delivery = DigestDelivery.objects.get(pk=delivery_id)
    error, permanent = _send(delivery)
    attempt = delivery.attempts
    if not error:
        DigestDelivery.objects.filter(
            pk=delivery.pk, status__in=[DigestDelivery.Status.SENDING, DigestDelivery.Status.PENDING]
        ).update(
            status=DigestDelivery.Status.DELIVERED,
            delivered_at=now,
            lease_until=None,
            next_attempt_at=None,
            last_error="",
        )
    else:
        final = permanent or attempt >= settings.ALERTS_DELIVERY_MAX_ATTEMPTS
        # Only this claim's own failure: a worker whose lease ran out must not undo a newer claim.
        DigestDelivery.objects.filter(pk=delivery.pk, status=DigestDelivery.Status.SENDING, attempts=attempt).update(
            status=DigestDelivery.Status.FAILED if final else DigestDelivery.Status.PENDING,
            next_attempt_at=None if final else now + retry_delay(attempts=attempt),
            lease_until=None,
            last_error=error[:ERROR_CHARS],
        )
    delivery.refresh_from_db()
    return delivery


def _send(delivery: DigestDelivery) -> tuple[str, bool]:
    """("", False) when the mail server took it; else the error and whether retrying is pointless."""
    domain = urlsplit(settings.SITE_URL).hostname or "lookout"
    email = EmailMultiAlternatives(
        subject=delivery.subject,
        body=delivery.text,
        to=[delivery.to],
        headers={
            "Message-ID": f"<{delivery.idempotency_key}@{domain}>",
            "X-Lookout-Idempotency-Key": delivery.idempotency_key,
        },
    )
    email.attach_alternative(delivery.html, "text/html")
    try:
        email.send()
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as exc:
        return f"the mail server refused: {exc}", True
    except (smtplib.SMTPException, OSError) as exc:
        return f"could not send mail: {exc}", False
    except Exception as exc:  # a bug must not leave the row claimed until its lease ends
        log.exception("digest %s could not be sent", delivery.pk)
        return f"internal error: {type(exc).__name__}: {exc}", False
    return "", False


def digest_retry(*, delivery: DigestDelivery, now: datetime) -> bool:
    """Queue a failed digest again with a fresh set of attempts; False if it had not failed."""
    return bool(
        DigestDelivery.objects.filter(pk=delivery.pk, status=DigestDelivery.Status.FAILED).update(
            status=DigestDelivery.Status.PENDING, attempts=0, next_attempt_at=now, last_error=""
        )
    )
