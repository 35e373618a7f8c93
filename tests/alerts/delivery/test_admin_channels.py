"""The channel admin: config checked by the kind (field errors, never a 500), send test, the delivery log."""

import json

import pytest
from django.urls import reverse
from django.utils import timezone

from alerts.delivery.services.sending import notifications_deliver
from alerts.models import Channel, DeliveryAttempt, Notification
from tests.alerts.delivery.factories import ChannelFactory, make_notification

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:alerts_channel_add")


def channel_form(**overrides):
    data = {"name": "ops", "kind": "webhook", "config": "{}", "enabled": "on"}
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def errors_of(response):
    assert response.status_code == 200, response.status_code
    form = response.context["adminform"].form
    return {field: [str(e) for e in errors] for field, errors in form.errors.items()}


@pytest.mark.parametrize(
    ("config", "error"),
    [
        ("{}", "url: give either url or url_env"),
        ('{"url_env": "LOOKOUT_TEST_UNSET"}', "url_env: the environment variable LOOKOUT_TEST_UNSET is not set"),
        ('{"url": "http://h.example/", "colour": "red"}', "colour: unknown field"),
        ('{"url": "http://127.0.0.1:9/hook"}', "url: 127.0.0.1 resolves to 127.0.0.1, a loopback address"),
        ('{"url": "http://10.0.0.7/hook"}', "url: 10.0.0.7 resolves to 10.0.0.7, a private address"),
        ('{"url": "http://localhost/hook"}', "url: localhost resolves to"),
    ],
)
def test_bad_config_is_a_field_error_and_saves_nothing(admin_client, config, error):
    response = admin_client.post(ADD_URL, channel_form(config=config))

    assert errors_of(response)["config"][0].startswith(error)
    assert not Channel.objects.exists()


def test_config_that_is_not_json_is_a_field_error(admin_client):
    response = admin_client.post(ADD_URL, channel_form(config="{not json"))
    assert "config" in errors_of(response)
    assert not Channel.objects.exists()


def test_an_internal_channel_may_point_at_loopback(admin_client):
    response = admin_client.post(ADD_URL, channel_form(config='{"url": "http://127.0.0.1:9/hook"}', allow_private="on"))
    assert response.status_code == 302
    assert Channel.objects.get().config == {"url": "http://127.0.0.1:9/hook", "format": "alertmanager"}


def test_email_addresses_are_cleaned_into_a_list(admin_client):
    response = admin_client.post(ADD_URL, channel_form(kind="email", config='{"to": "a@example.com, b@example.com"}'))
    assert response.status_code == 302
    assert Channel.objects.get().config == {"to": ["a@example.com", "b@example.com"]}


def test_the_secret_itself_is_never_stored(admin_client, monkeypatch):
    monkeypatch.setenv("SLACK_ALERTS_WEBHOOK", "http://127.0.0.1:9/services/T/B/s3cr3t")
    response = admin_client.post(
        ADD_URL, channel_form(kind="slack", config='{"url_env": "SLACK_ALERTS_WEBHOOK"}', allow_private="on")
    )
    assert response.status_code == 302
    channel = Channel.objects.get()
    assert "s3cr3t" not in json.dumps(channel.config)


def send_test(admin_client, *channels):
    return admin_client.post(
        reverse("admin:alerts_channel_changelist"),
        {"action": "send_test", "_selected_action": [c.pk for c in channels]},
        follow=True,
    )


def test_send_test_really_sends_and_reports_the_answer(admin_client, sink):
    channel = ChannelFactory(kind="webhook", config={"url": f"{sink.url}/hook"}, name="ops hook")

    response = send_test(admin_client, channel)

    assert "ops hook: test sent HTTP 200" in [str(m) for m in response.context["messages"]]
    (received,) = sink.requests
    body = json.loads(received.body)
    assert body["alerts"][0]["labels"]["alertname"] == "LookoutTest"
    (attempt,) = DeliveryAttempt.objects.all()
    assert (attempt.channel, attempt.notification, attempt.ok, attempt.status_code) == (channel, None, True, 200)


def test_send_test_reports_a_failure(admin_client, sink):
    sink.answer(500)
    channel = ChannelFactory(kind="webhook", config={"url": f"{sink.url}/hook"}, name="ops hook")

    response = send_test(admin_client, channel)

    assert "ops hook: test failed: HTTP 500" in [str(m) for m in response.context["messages"]]
    assert DeliveryAttempt.objects.get().ok is False
    channel.refresh_from_db()
    assert channel.consecutive_failures == 0  # a test is not a delivery


def test_the_delivery_log_per_channel(admin_client, sink, django_assert_max_num_queries):
    sink.answer(503)
    ours = ChannelFactory(kind="webhook", config={"url": f"{sink.url}/hook"}, name="ours")
    other = ChannelFactory(kind="webhook", config={"url": f"{sink.url}/hook"}, name="other")
    rows = [make_notification(ours) for _ in range(3)] + [make_notification(other)]
    notifications_deliver(notification_ids=[r.pk for r in rows], now=timezone.now())

    changelist = admin_client.get(reverse("admin:alerts_channel_changelist"))
    log_url = reverse("admin:alerts_deliveryattempt_changelist") + f"?channel__id__exact={ours.pk}"
    assert log_url.encode() in changelist.content.replace(b"&amp;", b"&")

    with django_assert_max_num_queries(12):  # not one query per row
        response = admin_client.get(log_url)
    assert response.status_code == 200
    shown = list(response.context["cl"].result_list)
    assert len(shown) == 3 and {a.channel_id for a in shown} == {ours.pk}
    assert b"HTTP 503" in response.content


def test_the_outbox_and_the_log_are_read_only(admin_client):
    channel = ChannelFactory(kind="webhook", config={"url": "http://127.0.0.1:9/"})
    notification = make_notification(channel)

    assert admin_client.get(reverse("admin:alerts_notification_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:alerts_notification_change", args=[notification.pk])).status_code == 200
    assert admin_client.get(reverse("admin:alerts_notification_add")).status_code == 403
    assert admin_client.get(reverse("admin:alerts_deliveryattempt_add")).status_code == 403
    response = admin_client.post(reverse("admin:alerts_notification_delete", args=[notification.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert Notification.objects.filter(pk=notification.pk).exists()


def test_the_admin_needs_a_login(client):
    response = client.get(reverse("admin:alerts_channel_changelist"))
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.parametrize(
    ("kind", "config", "field"),
    [
        ("ntfy", {"server": "http://127.0.0.1:9", "topic": "ops"}, "server"),
        ("telegram", {"bot_token_env": "HOME", "chat_id": "1", "api_url": "http://[::1]:9"}, "api_url"),
        ("pagerduty", {"routing_key_env": "HOME", "url": "http://169.254.169.254/v2/enqueue"}, "url"),
    ],
)
def test_the_address_error_names_the_field_the_url_came_from(admin_client, kind, config, field):
    response = admin_client.post(ADD_URL, channel_form(kind=kind, config=json.dumps(config)))
    assert errors_of(response)["config"][0].startswith(f"{field}: ")
    assert "only an internal channel may reach it" in errors_of(response)["config"][0]


def test_failed_notifications_can_be_sent_again_once_the_channel_is_fixed(admin_client, sink):
    sink.answer(404)
    channel = ChannelFactory(kind="webhook", config={"url": f"{sink.url}/hook"})
    failed, delivered = make_notification(channel), make_notification(channel)
    notifications_deliver(notification_ids=[failed.pk, delivered.pk], now=timezone.now())

    response = admin_client.post(
        reverse("admin:alerts_notification_changelist"),
        {"action": "retry", "_selected_action": [failed.pk, delivered.pk]},
        follow=True,
    )

    assert "1 notification(s) queued again" in str(list(response.context["messages"])[0])
    notifications_deliver(notification_ids=[failed.pk], now=timezone.now())
    failed.refresh_from_db()
    assert failed.status == Notification.Status.DELIVERED
    assert len(sink.requests) == 3
