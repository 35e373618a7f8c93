"""The daily and weekly digest as its reader sees it, sent once through the digest outbox."""

import datetime as dt
import smtplib

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend

from alerts.digests.tasks import compose_due, deliver_due
from alerts.models import AlertRule, DigestDelivery
from alerts.rules.kinds.slo_burn_rate import SloBurnRate
from monitoring.projects.roles import VIEWER, role_assign
from monitoring.telemetry.payloads import PointIn
from monitoring.telemetry.services.ingest import telemetry_ingest
from monitoring.telemetry.services.rollups import rollups_build
from tests.alerts.digests.conftest import NOW

pytestmark = pytest.mark.django_db


def run_beat():
    with time_machine.travel(NOW, tick=False):
        compose_due()
        deliver_due()


def mail_to(address):
    (message,) = [m for m in mail.outbox if m.to == [address]]
    return message


def test_the_daily_digest_gives_the_figures_a_reader_checks(shop):
    run_beat()
    message = mail_to("alice@example.com")
    assert message.subject == "[Lookout] Daily digest: Shop, Tue 17 Nov 2026"
    text = message.body
    # 1404 of 1440 probes answered; the SLO's 95 % is Checkout's target, Search has the default.
    assert "- Checkout API: 97.500 % (target 95 %)" in text
    assert "- Search: 99.861 % (target 99.9 %, MISSED)" in text
    # 2.5 % of probes failed against a 5 % budget over 30 days: half the budget is left.
    assert "- Checkout availability (95 %): 50.0 % left" in text
    assert "2 opened · MTTA 7 min 0 s · MTTR 48 min 0 s" in text
    assert "- New: PaymentDeclined: card expired" in text and "2 events" in text
    assert "- Regressed: Cart total is NaN" in text
    assert "- LCP: 3183 ms (budget 2500 ms, OVER)" in text
    assert "- portal: ok; last success 2026-11-18 02:01, not verified yet" in text
    html, mime = message.alternatives[0]
    assert mime == "text/html"
    base = "https://lookout.example.com"
    assert f'href="{base}/admin/monitoring/target/{shop.checkout.pk}/change/"' in html
    assert f'href="{base}/admin/monitoring/errorissue/{shop.new.pk}/change/"' in html
    assert f'href="{base}/admin/alerts/alertrule/{shop.rule.pk}/change/"' in html
    assert "Hello" not in html and "for Alice" in html


def test_the_weekly_digest_covers_monday_to_sunday(shop):
    run_beat()
    message = mail_to("bob@example.com")
    assert message.subject == "[Lookout] Weekly digest: Shop, 09 Nov – 15 Nov 2026"
    # Tuesday 17 Nov is after that week: no probes, no incidents in it.
    assert "- Checkout API: no data" in message.body
    assert "0 opened" in message.body


def test_a_digest_is_sent_once_when_beat_runs_twice(shop):
    run_beat()
    run_beat()
    with time_machine.travel(NOW + dt.timedelta(minutes=10), tick=False):
        compose_due()
        deliver_due()
    assert sorted(m.to[0] for m in mail.outbox) == ["alice@example.com", "bob@example.com"]
    assert DigestDelivery.objects.count() == 2
    assert set(DigestDelivery.objects.values_list("status", flat=True)) == {"delivered"}


def test_the_next_day_brings_the_next_daily_digest(shop):
    run_beat()
    with time_machine.travel(NOW + dt.timedelta(days=1), tick=False):
        compose_due()
        deliver_due()
    subjects = sorted(m.subject for m in mail.outbox if m.to == ["alice@example.com"])
    assert subjects == [
        "[Lookout] Daily digest: Shop, Tue 17 Nov 2026",
        "[Lookout] Daily digest: Shop, Wed 18 Nov 2026",
    ]


class FlakyBackend(EmailBackend):
    """The mail server: drops the connection on the first try, takes the mail on the next."""

    tries = 0

    def send_messages(self, messages):
        FlakyBackend.tries += 1
        if FlakyBackend.tries == 1:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


def test_a_failed_send_is_retried_with_backoff_under_the_same_message_id(shop, settings):
    settings.EMAIL_BACKEND = "tests.alerts.digests.test_digests.FlakyBackend"
    FlakyBackend.tries = 0
    shop.bob.digest_subscriptions.all().delete()
    with time_machine.travel(NOW, tick=False):
        compose_due()
        deliver_due()
    delivery = DigestDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert "Connection unexpectedly closed" in delivery.last_error
    assert NOW + dt.timedelta(seconds=5) <= delivery.next_attempt_at <= NOW + dt.timedelta(seconds=10)
    assert mail.outbox == []
    with time_machine.travel(delivery.next_attempt_at, tick=False):
        deliver_due()
        deliver_due()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    (message,) = mail.outbox
    assert message.extra_headers["Message-ID"] == f"<{delivery.idempotency_key}@lookout.example.com>"


def test_a_refused_recipient_fails_at_once(shop, settings):
    settings.EMAIL_BACKEND = "tests.alerts.digests.test_digests.RefusingBackend"
    with time_machine.travel(NOW, tick=False):
        compose_due()
        deliver_due()
    assert set(DigestDelivery.objects.values_list("status", "attempts")) == {("failed", 1)}


class RefusingBackend(EmailBackend):
    def send_messages(self, messages):
        raise smtplib.SMTPRecipientsRefused({messages[0].to[0]: (550, b"No such user")})


def test_inactive_users_and_users_without_email_get_nothing(shop):
    shop.alice.is_active = False
    shop.alice.save()
    shop.bob.email = ""
    shop.bob.save()
    run_beat()
    assert mail.outbox == []


def test_composing_reads_a_project_once_whatever_its_readers(shop, django_assert_max_num_queries):
    from alerts.models import DigestSubscription
    from tests.factories import UserFactory

    for n in range(10):
        reader = UserFactory(username=f"reader{n}", is_staff=True)
        role_assign(user=reader, role=VIEWER)
        DigestSubscription.objects.create(user=reader, project=shop.project, cadence="daily")
    # About 45 reads for the project's figures, then one write for all twelve readers.
    with time_machine.travel(NOW, tick=False), django_assert_max_num_queries(46):
        written = compose_due()
    assert written == 12


def test_a_failed_digest_is_sent_again_from_the_admin(shop, settings, client):
    settings.EMAIL_BACKEND = "tests.alerts.digests.test_digests.RefusingBackend"
    with time_machine.travel(NOW, tick=False):
        compose_due()
        deliver_due()
    mine = DigestDelivery.objects.get(subscription__user=shop.alice)
    theirs = DigestDelivery.objects.get(subscription__user=shop.bob)
    client.force_login(shop.alice)
    listing = client.get("/admin/alerts/digestdelivery/").content.decode()
    assert "alice@example.com" in listing and "bob@example.com" not in listing
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    response = client.post(
        "/admin/alerts/digestdelivery/", {"action": "retry", "_selected_action": [mine.pk, theirs.pk]}
    )
    assert response.status_code == 302
    deliver_due()
    (message,) = mail.outbox
    assert message.to == ["alice@example.com"]
    theirs.refresh_from_db()
    assert theirs.status == "failed"


def test_a_latency_slo_reports_its_budget_from_the_metric(shop):
    # 90 requests well under 500 ms, 10 well over: 10 % slow against a 20 % budget.
    with time_machine.travel(NOW, tick=False):
        telemetry_ingest(
            project=shop.project,
            points=[
                PointIn(name="http.latency", value=v, timestamp=NOW - dt.timedelta(days=1, hours=3))
                for v in [120] * 90 + [2000] * 10
            ],
        )
        while rollups_build():
            pass
    AlertRule.objects.create(
        project=shop.project,
        name="Checkout latency",
        kind="slo_burn_rate",
        params=SloBurnRate.validate_params(
            {"sli": "latency", "objective": 80, "preset": "page", "metric": "http.latency", "threshold_ms": 500}
        ),
    )
    run_beat()
    assert "- Checkout latency (80 %): 50.0 % left" in mail_to("alice@example.com").body


def test_a_reader_whose_role_was_taken_away_gets_no_more_digests(shop):
    shop.alice.groups.clear()
    run_beat()
    assert [m.to for m in mail.outbox] == [["bob@example.com"]]
