"""Status page subscribers, history, widget and Atom feed: what a visitor, a subscriber's
mailbox, a webhook receiver and a feed reader see."""

import datetime as dt
import json
import re

import feedparser
import pytest
from django.core import mail
from django.core.cache import cache
from django.utils import timezone

from alerts.models import Incident, IncidentEvent, MaintenanceWindow, Subscriber, SubscriberNotice
from alerts.status.models import IncidentStatus
from alerts.status.services import public_incident_create, public_incident_update_add
from alerts.status.subscribers import maintenances_announce, notices_deliver_due
from tests.alerts.delivery.sink import serve_sink
from tests.alerts.status.factories import ComponentFactory, StatusPageFactory

pytestmark = pytest.mark.django_db

LINK = re.compile(r"http://\S+/status/\S+/")


def deliver():
    """What the beat tick does: send every due notice."""
    return notices_deliver_due(now=timezone.now())


def sign_up(client, page, email, **extra):
    return client.post(f"/status/{page.slug}/subscribe/", {"kind": "email", "email": email}, **extra)


def links_in(message):
    return LINK.findall(message.body)


def confirmed_subscriber(client, page, email="ana@example.com"):
    assert sign_up(client, page, email).status_code == 200
    deliver()
    confirm = next(link for link in links_in(mail.outbox[-1]) if "/subscribe/confirm/" in link)
    assert client.post(confirm).status_code == 200
    return Subscriber.objects.get(page=page, address=email)


def test_double_opt_in_then_one_mail_per_update_and_one_click_unsubscribe(client):
    page = StatusPageFactory(title="Acme Cloud")

    response = sign_up(client, page, "Ana@Example.com")

    assert response.status_code == 200
    assert "a confirmation link is on its way" in response.content.decode()
    deliver()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ana@example.com"]
    assert mail.outbox[0].subject == "Confirm your subscription to Acme Cloud status"
    # Not confirmed yet: an incident is not mailed.
    public_incident_create(page=page, name="Slow API", body="Looking into it.")
    deliver()
    assert len(mail.outbox) == 1

    confirm = next(link for link in links_in(mail.outbox[0]) if "/subscribe/confirm/" in link)
    # Opening the link (a mail scanner does) only asks; the button confirms.
    assert "Confirm subscription" in client.get(confirm).content.decode()
    assert Subscriber.objects.get().confirmed_at is None
    assert "will hear about incidents" in client.post(confirm).content.decode()

    incident = public_incident_create(page=page, name="Database down", body="Investigating errors.")
    public_incident_update_add(incident=incident, status=IncidentStatus.RESOLVED, body="Fixed.")
    deliver()
    deliver()  # a second tick sends nothing again
    told = mail.outbox[1:]
    assert [m.subject for m in told] == [
        "[Acme Cloud] Database down: Investigating",
        "[Acme Cloud] Database down: Resolved",
    ]
    assert "Investigating errors." in told[0].body
    unsubscribe = told[0].extra_headers["List-Unsubscribe"].strip("<>")
    assert told[0].extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe in told[0].body

    # A mail client's one-click: a POST straight to the link.
    assert "will hear nothing more" in client.post(unsubscribe).content.decode()
    public_incident_update_add(incident=incident, status=IncidentStatus.MONITORING, body="Watching.")
    deliver()
    assert len(mail.outbox) == 3
    assert client.post(unsubscribe).status_code == 200  # a repeat is harmless


def test_a_malformed_email_is_refused_naming_the_field(client):
    page = StatusPageFactory()
    response = sign_up(client, page, "not-an-address")
    assert response.status_code == 400
    assert 'id="email-error"' in response.content.decode()
    assert "Enter a valid email address." in response.content.decode()
    odd = client.post(f"/status/{page.slug}/subscribe/", {"kind": "pigeon", "email": "ana@example.com"})
    assert odd.status_code == 400 and "Choose email or webhook." in odd.content.decode()
    assert not Subscriber.objects.exists()


def test_a_repeat_is_refused_alike_whether_or_not_the_address_subscribes(client):
    page = StatusPageFactory()
    confirmed_subscriber(client, page, "ana@example.com")
    cache.clear()  # a while later: the limits have refilled
    first_new = sign_up(client, page, "bo@example.com", REMOTE_ADDR="10.0.0.2")
    first_known = sign_up(client, page, "ana@example.com", REMOTE_ADDR="10.0.0.3")
    # The same answer for a new address and one that is subscribed already.
    assert first_new.status_code == first_known.status_code == 200
    assert first_new.content.decode().replace("bo@example.com", "X") == first_known.content.decode().replace(
        "ana@example.com", "X"
    )
    again_new = sign_up(client, page, "bo@example.com", REMOTE_ADDR="10.0.0.4")
    again_known = sign_up(client, page, "ana@example.com", REMOTE_ADDR="10.0.0.5")
    assert again_new.status_code == again_known.status_code == 429
    assert again_new["Retry-After"] and again_known["Retry-After"]
    assert again_new.content.decode().replace("bo@example.com", "X") == again_known.content.decode().replace(
        "ana@example.com", "X"
    )
    assert "Too many subscription requests" in again_new.content.decode()
    deliver()
    # Bo got one confirmation mail, Ana (confirmed) none for asking again.
    assert [m.to for m in mail.outbox[1:]] == [["bo@example.com"]]


def test_one_client_cannot_sign_up_address_after_address(client):
    page = StatusPageFactory()
    answers = [sign_up(client, page, f"person{i}@example.com").status_code for i in range(7)]
    assert answers == [200] * 5 + [429] * 2


def test_forged_expired_and_foreign_links_are_refused(client):
    page, other = StatusPageFactory(), StatusPageFactory()
    subscriber = confirmed_subscriber(client, page)
    unsubscribe = next(link for link in links_in(mail.outbox[0]) if "/subscribe/confirm/" in link)
    assert client.get(unsubscribe[:-3] + "xx/").status_code == 400
    assert client.post(unsubscribe.replace(page.slug, other.slug)).status_code == 400
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("alerts.status.subscribers.CONFIRM_MAX_AGE", dt.timedelta(seconds=-1))
        assert client.get(unsubscribe).status_code == 400
    assert Subscriber.objects.filter(pk=subscriber.pk).exists()


def test_a_webhook_subscriber_gets_each_notice_once_from_a_real_server(client, settings):
    settings.STATUS_WEBHOOKS_ALLOW_PRIVATE = True  # the sink listens on loopback
    page = StatusPageFactory(title="Acme Cloud")
    api = ComponentFactory(page=page, name="API")
    with serve_sink() as sink:
        sink.answer(503)  # the first try fails and is retried
        response = client.post(f"/status/{page.slug}/subscribe/", {"kind": "webhook", "url": f"{sink.url}/hook"})
        assert response.status_code == 200
        incident = public_incident_create(page=page, name="API errors", body="Investigating.", components=[api])
        public_incident_update_add(incident=incident, status=IncidentStatus.IDENTIFIED, body="A bad deploy.")
        deliver()
        notice = SubscriberNotice.objects.get(topic__startswith=f"update:{incident.updates.last().pk}")
        assert notice.status == SubscriberNotice.Status.PENDING and "HTTP 503" in notice.last_error
        SubscriberNotice.objects.update(next_attempt_at=timezone.now())
        deliver()
        deliver()

    kept = sink.deliveries()
    assert len(sink.requests) == 3 and len(kept) == 2
    bodies = [json.loads(r.body) for r in kept.values()]
    assert sorted(b["incident"]["update"]["body"] for b in bodies) == ["A bad deploy.", "Investigating."]
    assert all(r.path == "/hook" and r.headers["content-type"] == "application/json" for r in sink.requests)
    assert bodies[0]["page"]["name"] == "Acme Cloud" and "/unsubscribe/" in bodies[0]["unsubscribe_url"]


def test_a_webhook_to_a_private_address_is_refused(client):
    page = StatusPageFactory()
    for url in ("http://127.0.0.1:8080/hook", "http://10.1.2.3/hook", "ftp://example.com/x"):
        response = client.post(f"/status/{page.slug}/subscribe/", {"kind": "webhook", "url": url})
        assert response.status_code == 400, url
        assert 'id="url-error"' in response.content.decode()
    assert not Subscriber.objects.exists()


def test_maintenance_is_told_once_however_often_the_tick_runs(client):
    page = StatusPageFactory(title="Acme Cloud")
    api = ComponentFactory(page=page, name="API")
    confirmed_subscriber(client, page)
    MaintenanceWindow.objects.create(
        name="Database upgrade",
        target=api.target,
        starts_at=timezone.now() + dt.timedelta(days=1),
        duration_minutes=60,
    )
    assert maintenances_announce(now=timezone.now()) == 1
    assert maintenances_announce(now=timezone.now()) == 0
    deliver()
    assert [m.subject for m in mail.outbox[1:]] == ["[Acme Cloud] Maintenance: Database upgrade"]
    assert "Affects API" in mail.outbox[1].body


def test_the_atom_feed_reads_in_a_real_feed_parser(client):
    page = StatusPageFactory(title="Acme Cloud")
    api = ComponentFactory(page=page, name="API")
    incident = public_incident_create(page=page, name="API <errors>", body="Investigating 5xx & timeouts.")
    public_incident_update_add(incident=incident, status=IncidentStatus.RESOLVED, body="Fixed.")
    MaintenanceWindow.objects.create(
        name="Network swap", target=api.target, starts_at=timezone.now() + dt.timedelta(days=2), duration_minutes=30
    )

    response = client.get(f"/status/{page.slug}/feed.atom")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.bozo_exception
    assert feed.version == "atom10"
    assert feed.feed.title == "Acme Cloud status"
    titles = [entry.title for entry in feed.entries]
    assert titles == ["API <errors> (Resolved)", "Maintenance: Network swap"]
    entry = feed.entries[0]
    assert entry.link.endswith(f"/status/{page.slug}/#incident-{incident.pk}")
    assert "Investigating 5xx &amp; timeouts." in entry.summary and "Fixed." in entry.summary
    assert entry.updated_parsed >= entry.published_parsed


def test_the_history_page_shows_one_month_and_links_the_others(client):
    page = StatusPageFactory(title="Acme Cloud")
    now = timezone.now()
    last_month = (now.replace(day=1) - dt.timedelta(days=1)).replace(day=10, hour=12)
    old = public_incident_create(page=page, name="Old outage", body="Was down.", at=last_month)
    public_incident_update_add(
        incident=old, status=IncidentStatus.RESOLVED, body="Back up.", at=last_month + dt.timedelta(hours=1)
    )
    public_incident_create(page=page, name="Current slowness", body="Slow.")

    current = client.get(f"/status/{page.slug}/history/")
    assert current.status_code == 200
    html = current.content.decode()
    assert "Current slowness" in html and "Old outage" not in html
    assert "<script" not in html
    assert f'href="/status/{page.slug}/history/{last_month:%Y/%m}/"' in html

    previous = client.get(f"/status/{page.slug}/history/{last_month:%Y/%m}/").content.decode()
    assert "Old outage" in previous and "Back up." in previous and "Current slowness" not in previous
    assert 'rel="prev"' not in previous  # nothing older to show
    assert previous.index("Was down.") < previous.index("Back up.")  # updates read in order
    assert client.get(f"/status/{page.slug}/history/2020/13/").status_code == 404
    assert client.get(f"/status/{page.slug}/history/1999/01/").status_code == 404
    assert client.get("/status/nope/history/").status_code == 404


def test_the_widget_is_framable_and_says_the_overall_status(client, admin_client, settings):
    page = StatusPageFactory(title="Acme Cloud")
    ComponentFactory(page=page, name="API")
    response = client.get(f"/status/{page.slug}/widget/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "All Systems Operational" in html and "<script" not in html
    assert f'href="http://testserver/status/{page.slug}/"' in html
    assert "X-Frame-Options" not in response
    assert "frame-ancestors *" in response["Content-Security-Policy"]
    # The page's admin gives the snippet to paste.
    settings.SITE_URL = "https://lookout.example.com"
    admin_html = admin_client.get(f"/admin/alerts/statuspage/{page.pk}/change/").content.decode()
    assert f"&lt;iframe src=&quot;https://lookout.example.com/status/{page.slug}/widget/&quot;" in admin_html


def test_the_page_offers_subscribing_without_javascript(client):
    page = StatusPageFactory()
    html = client.get(f"/status/{page.slug}/").content.decode()
    assert f'<form class="subscribe" method="post" action="/status/{page.slug}/subscribe/">' in html
    assert f'href="/status/{page.slug}/feed.atom"' in html and f'href="/status/{page.slug}/history/"' in html
    assert "form-action 'self'" in client.get(f"/status/{page.slug}/")["Content-Security-Policy"]


def test_a_public_update_is_drafted_from_the_internal_incident_and_told_to_subscribers(admin_client, client):
    page = StatusPageFactory(title="Acme Cloud")
    subscriber = confirmed_subscriber(client, page)
    internal = Incident.objects.create(title="Checkout API down", dedup_key="rule:9", opened_at=timezone.now())
    IncidentEvent.objects.create(
        incident=internal, at=timezone.now(), kind=IncidentEvent.Kind.COMMENT, message="db-3 OOM, paging Bo"
    )

    incident_page = admin_client.get(f"/admin/alerts/incident/{internal.pk}/change/").content.decode()
    draft = re.search(r'id="draft-public-update" href="([^"]+)"', incident_page).group(1)
    form_page = admin_client.get(draft, follow=True)
    form = form_page.context["adminform"].form
    assert form.initial["name"] == "Checkout API down"
    assert form.initial["page"] == page.pk  # the only page is chosen already
    assert str(form.initial["internal_incident"]) == str(internal.pk)
    update_form = form_page.context["inline_admin_formsets"][0].formset.forms[0]
    assert update_form.initial["body"] == "We are investigating: Checkout API down."
    assert "db-3 OOM" not in form_page.content.decode()  # the timeline stays internal

    response = admin_client.post(
        form_page.redirect_chain[-1][0],
        {
            "page": page.pk,
            "name": "Checkout is failing",
            "impact": "major",
            "started_at_0": timezone.now().strftime("%Y-%m-%d"),
            "started_at_1": timezone.now().strftime("%H:%M:%S"),
            "internal_incident": internal.pk,
            "updates-TOTAL_FORMS": "1",
            "updates-INITIAL_FORMS": "0",
            "updates-0-status": "investigating",
            "updates-0-body": "Checkout fails for some customers.",
            "updates-0-created_at_0": timezone.now().strftime("%Y-%m-%d"),
            "updates-0-created_at_1": timezone.now().strftime("%H:%M:%S"),
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    public = internal.public_incidents.get()
    assert public.name == "Checkout is failing"
    # The next draft from the same incident opens this one, to post an update to it.
    assert admin_client.get(draft).url == f"/admin/alerts/publicincident/{public.pk}/change/"
    deliver()
    assert mail.outbox[-1].subject == "[Acme Cloud] Checkout is failing: Investigating"
    assert mail.outbox[-1].to == [subscriber.address]
    assert "db-3 OOM" not in mail.outbox[-1].body


def test_history_feed_and_widget_queries_do_not_grow_with_incidents(client, django_assert_max_num_queries):
    page = StatusPageFactory()
    ComponentFactory(page=page)
    for n in range(12):
        incident = public_incident_create(page=page, name=f"Incident {n}", body="Investigating.")
        public_incident_update_add(incident=incident, status=IncidentStatus.RESOLVED, body="Fixed.")
    # The domain map, the page, its first incident, its incidents and their updates.
    with django_assert_max_num_queries(5):
        assert client.get(f"/status/{page.slug}/history/").status_code == 200
    with django_assert_max_num_queries(13):  # 12 + the daily rollup's cursor, the bars' version
        assert client.get(f"/status/{page.slug}/feed.atom").status_code == 200
    with django_assert_max_num_queries(2):  # the snapshot is cached by the feed's read
        assert client.get(f"/status/{page.slug}/widget/").status_code == 200


def test_subscribing_on_a_custom_domain_mails_working_links(client, settings):
    settings.ALLOWED_HOSTS = ["testserver", "status.acme.test"]
    page = StatusPageFactory(title="Acme Cloud", custom_domain="status.acme.test")
    host = {"HTTP_HOST": "status.acme.test"}
    assert 'action="/subscribe/"' in client.get("/", **host).content.decode()
    assert client.post("/subscribe/", {"kind": "email", "email": "ana@example.com"}, **host).status_code == 200
    assert client.get("/history/", **host).status_code == 200
    assert client.get("/feed.atom", **host).status_code == 200
    deliver()
    confirm = next(link for link in links_in(mail.outbox[0]) if "/subscribe/confirm/" in link)
    assert confirm.startswith(f"{settings.SITE_URL.rstrip('/')}/status/{page.slug}/")
    assert client.post(confirm).status_code == 200
    assert Subscriber.objects.get().confirmed_at is not None


def test_a_notice_whose_worker_died_is_sent_again_and_a_refusal_is_final(client, settings):
    settings.STATUS_WEBHOOKS_ALLOW_PRIVATE = True
    page = StatusPageFactory()
    with serve_sink() as sink:
        client.post(f"/status/{page.slug}/subscribe/", {"kind": "webhook", "url": f"{sink.url}/hook"})
        incident = public_incident_create(page=page, name="Down", body="Investigating.")
        notice = SubscriberNotice.objects.get()
        # A worker claimed it and died: the lease ran out without a result.
        past = timezone.now() - dt.timedelta(minutes=5)
        SubscriberNotice.objects.update(status=SubscriberNotice.Status.SENDING, attempts=1, next_attempt_at=past)
        deliver()
        notice.refresh_from_db()
        assert notice.status == SubscriberNotice.Status.DELIVERED and notice.attempts == 2

        sink.answer(410)  # the receiver is gone for good
        public_incident_update_add(incident=incident, status=IncidentStatus.RESOLVED, body="Fixed.")
        deliver()
        gone = SubscriberNotice.objects.exclude(pk=notice.pk).get()
        assert gone.status == SubscriberNotice.Status.FAILED and gone.last_error.startswith("HTTP 410")
        SubscriberNotice.objects.filter(pk=gone.pk).update(next_attempt_at=timezone.now())
        deliver()
    assert len(sink.requests) == 2
    assert sink.requests[0].headers["idempotency-key"] == notice.idempotency_key
