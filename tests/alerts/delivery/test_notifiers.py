"""Each notifier against a real local HTTP server (email against Django's locmem backend)."""

import dataclasses
import hashlib
import hmac
import json

import pytest
from django.core.exceptions import ValidationError

from alerts.delivery.messages import message_build
from alerts.delivery.notifiers import NOTIFIERS, NotifierError
from alerts.delivery.notifiers.webhook import signature
from alerts.models import Channel, IncidentEvent
from tests.alerts.delivery.factories import ChannelFactory, make_notification
from tests.processes import free_port

pytestmark = pytest.mark.django_db

KEY = "k" * 64


def build(kind, config, *, event=IncidentEvent.Kind.FIRED):
    cleaned = NOTIFIERS[kind].validate_config(config)
    channel = ChannelFactory(kind=kind, config=cleaned, name=f"ops-{kind}")
    message = message_build(notification=make_notification(channel, kind=event))
    return NOTIFIERS[kind].from_channel(channel), message


def only_json(sink):
    (received,) = sink.requests
    assert received.method == "POST"
    assert received.headers["content-type"] == "application/json"
    assert received.headers["idempotency-key"] == KEY
    return received, json.loads(received.body)


def test_message_carries_the_incident_and_a_link_to_its_page(settings):
    settings.SITE_URL = "https://lookout.example.com"
    channel = ChannelFactory(kind="webhook", config={"url": "http://127.0.0.1:1/"})
    notification = make_notification(channel)

    message = message_build(notification=notification)

    assert message.title == notification.incident.title
    assert (message.severity, message.tier, message.status, message.event) == (
        "critical",
        "critical",
        "triggered",
        "fired",
    )
    assert message.url == f"https://lookout.example.com/admin/alerts/incident/{notification.incident_id}/change/"
    assert message.subject == f"[CRITICAL] Fired: {notification.incident.title}"
    assert "api.example.com has not answered for 5 minutes" in message.text
    assert "target=api" in message.text and message.url in message.text
    assert message.url in message.html


def test_email_goes_through_djangos_backend_with_a_stable_message_id(mailoutbox):
    notifier, message = build("email", {"to": "oncall@example.com, lead@example.com"})

    result = notifier.send(message, idempotency_key=KEY)

    (mail,) = mailoutbox
    assert mail.to == ["oncall@example.com", "lead@example.com"]
    assert mail.subject == message.subject
    assert mail.extra_headers["Message-ID"].startswith(f"<{KEY}@")
    assert mail.alternatives[0][1] == "text/html"
    assert "accepted for 2 recipient" in result.response_excerpt


def test_slack_posts_blocks_with_a_fallback_text(sink, monkeypatch):
    monkeypatch.setenv("SLACK_ALERTS_WEBHOOK", f"{sink.url}/services/T0/B0/secret")
    notifier, message = build("slack", {"url_env": "SLACK_ALERTS_WEBHOOK"})

    result = notifier.send(message, idempotency_key=KEY)

    received, body = only_json(sink)
    assert received.path == "/services/T0/B0/secret"
    assert body["text"] == message.subject
    assert message.url in body["blocks"][0]["text"]["text"]
    assert "`target=api`" in body["blocks"][1]["elements"][0]["text"]
    assert result.status_code == 200


def test_teams_posts_an_adaptive_card(sink, monkeypatch):
    monkeypatch.setenv("TEAMS_WEBHOOK", f"{sink.url}/workflows/abc")
    sink.answer(202)
    notifier, message = build("teams", {"url_env": "TEAMS_WEBHOOK"})

    assert notifier.send(message, idempotency_key=KEY).status_code == 202

    _, body = only_json(sink)
    attachment = body["attachments"][0]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["body"][0]["text"] == message.subject
    assert {"title": "target", "value": "api"} in card["body"][-1]["facts"]
    assert card["actions"][0]["url"] == message.url


def test_discord_posts_an_embed_that_pings_nobody(sink, monkeypatch):
    monkeypatch.setenv("DISCORD_WEBHOOK", f"{sink.url}/api/webhooks/1/tok")
    sink.answer(204)
    notifier, message = build("discord", {"url_env": "DISCORD_WEBHOOK"})

    notifier.send(message, idempotency_key=KEY)

    _, body = only_json(sink)
    (embed,) = body["embeds"]
    assert embed["title"] == message.subject and embed["url"] == message.url
    assert body["allowed_mentions"] == {"parse": []}


def test_webhook_speaks_alertmanager_v4_signed_with_hmac(sink, monkeypatch):
    monkeypatch.setenv("HOOK_SECRET", "s3cret")
    notifier, message = build("webhook", {"url": f"{sink.url}/am", "secret_env": "HOOK_SECRET"})

    notifier.send(message, idempotency_key=KEY)

    received, body = only_json(sink)
    expected = hmac.new(b"s3cret", received.body, hashlib.sha256).hexdigest()
    assert received.headers["x-lookout-signature"] == f"sha256={expected}"
    assert received.headers["x-lookout-event"] == "fired"
    assert body["version"] == "4" and body["status"] == "firing"
    assert body["groupKey"] == message.dedup_key and body["receiver"] == "ops-webhook"
    (alert,) = body["alerts"]
    assert alert["labels"]["target"] == "api" and alert["status"] == "firing"
    assert alert["annotations"]["summary"] == "api.example.com has not answered for 5 minutes"
    assert alert["endsAt"] == "0001-01-01T00:00:00Z"


def test_a_tampered_body_does_not_verify():
    assert signature("s3cret", b'{"a": 1}') != signature("s3cret", b'{"a": 2}')
    assert signature("s3cret", b'{"a": 1}') != signature("other", b'{"a": 1}')


def test_webhook_body_from_a_template(sink):
    notifier, message = build(
        "webhook",
        {
            "url": f"{sink.url}/t",
            "format": "template",
            "content_type": "text/plain",
            "template": "{{ status }}|{{ severity }}|{{ title }}|{{ labels.target }}|<{{ url }}>",
        },
    )

    notifier.send(message, idempotency_key=KEY)

    (received,) = sink.requests
    assert received.headers["content-type"] == "text/plain"
    assert received.body.decode() == f"triggered|critical|{message.title}|api|<{message.url}>"


def test_webhook_url_from_the_environment(sink, monkeypatch):
    monkeypatch.setenv("HOOK_URL", f"{sink.url}/secret-path")
    notifier, message = build("webhook", {"url_env": "HOOK_URL"})
    notifier.send(message, idempotency_key=KEY)
    assert sink.requests[0].path == "/secret-path"


@pytest.mark.parametrize(
    ("event", "action"),
    [
        (IncidentEvent.Kind.FIRED, "trigger"),
        (IncidentEvent.Kind.ACKNOWLEDGED, "acknowledge"),
        (IncidentEvent.Kind.RESOLVED, "resolve"),
    ],
)
def test_pagerduty_events_v2_keyed_by_the_incident(sink, monkeypatch, event, action):
    monkeypatch.setenv("PD_ROUTING_KEY", "R0UT1NGKEY")
    sink.answer(202)
    notifier, message = build(
        "pagerduty", {"routing_key_env": "PD_ROUTING_KEY", "url": f"{sink.url}/v2/enqueue"}, event=event
    )

    notifier.send(message, idempotency_key=KEY)

    received, body = only_json(sink)
    assert received.path == "/v2/enqueue"
    assert body["routing_key"] == "R0UT1NGKEY"
    assert body["event_action"] == action
    assert body["dedup_key"] == message.dedup_key
    if action == "trigger":
        assert body["payload"]["severity"] == "critical"
        assert body["payload"]["source"] == "api"
        assert body["links"][0]["href"] == message.url
    else:
        assert "payload" not in body


def test_telegram_send_message_with_the_token_from_the_environment(sink, monkeypatch):
    monkeypatch.setenv("TG_BOT_TOKEN", "123:ABC")
    notifier, message = build("telegram", {"bot_token_env": "TG_BOT_TOKEN", "chat_id": -1001234, "api_url": sink.url})

    notifier.send(message, idempotency_key=KEY)

    received, body = only_json(sink)
    assert received.path == "/bot123:ABC/sendMessage"
    assert body["chat_id"] == "-1001234" and body["parse_mode"] == "HTML"
    assert f"<b>{message.subject}</b>" in body["text"]
    assert f'<a href="{message.url}">' in body["text"]


def test_telegram_errors_never_show_the_token(monkeypatch):
    monkeypatch.setenv("TG_BOT_TOKEN", "123:ABC")
    notifier, message = build(
        "telegram",
        {"bot_token_env": "TG_BOT_TOKEN", "chat_id": "@ops_alerts", "api_url": f"http://127.0.0.1:{free_port()}"},
    )
    with pytest.raises(NotifierError) as caught:
        notifier.send(message, idempotency_key=KEY)
    assert "123:ABC" not in str(caught.value)


@pytest.mark.parametrize(("severity", "priority"), [("critical", 5), ("high", 4), ("medium", 3), ("low", 2)])
def test_ntfy_priority_follows_severity(sink, monkeypatch, severity, priority):
    monkeypatch.setenv("NTFY_TOKEN", "tk_abc")
    notifier, message = build("ntfy", {"server": sink.url, "topic": "lookout-ops", "token_env": "NTFY_TOKEN"})
    message = dataclasses.replace(message, severity=severity)

    notifier.send(message, idempotency_key=KEY)

    received, body = only_json(sink)
    assert received.headers["authorization"] == "Bearer tk_abc"
    assert (body["topic"], body["priority"], body["click"]) == ("lookout-ops", priority, message.url)


def test_a_5xx_is_worth_retrying_a_4xx_is_not(sink):
    notifier, message = build("webhook", {"url": f"{sink.url}/am"})
    sink.answer(503, 404)

    with pytest.raises(NotifierError) as busy:
        notifier.send(message, idempotency_key=KEY)
    with pytest.raises(NotifierError) as wrong:
        notifier.send(message, idempotency_key=KEY)

    assert (busy.value.permanent, busy.value.status_code) == (False, 503)
    assert (wrong.value.permanent, wrong.value.status_code) == (True, 404)


def test_a_private_url_is_refused_for_a_channel_that_is_not_internal(sink):
    notifier, message = build("webhook", {"url": f"{sink.url}/am"})
    notifier.allow_private = False

    with pytest.raises(NotifierError, match="loopback address") as refused:
        notifier.send(message, idempotency_key=KEY)

    assert refused.value.permanent
    assert sink.requests == []


def test_a_secret_missing_at_send_time_is_a_permanent_config_error(monkeypatch):
    monkeypatch.setenv("SLACK_ALERTS_WEBHOOK", "https://hooks.slack.example/x")
    notifier, message = build("slack", {"url_env": "SLACK_ALERTS_WEBHOOK"})
    monkeypatch.delenv("SLACK_ALERTS_WEBHOOK")

    with pytest.raises(NotifierError, match="url_env: the environment variable SLACK_ALERTS_WEBHOOK is not set") as e:
        notifier.send(message, idempotency_key=KEY)
    assert e.value.permanent


@pytest.mark.parametrize(
    ("kind", "config", "error"),
    [
        ("email", {}, "to: required"),
        ("email", {"to": ["not-an-address"]}, "to: 'not-an-address' is not an email address"),
        ("slack", {"url_env": "NOT_SET_ANYWHERE"}, "url_env: the environment variable NOT_SET_ANYWHERE is not set"),
        ("slack", {"url_env": "has spaces"}, "url_env: must name an environment variable"),
        ("slack", {"url": "https://hooks.slack.com/x"}, "url: unknown field"),
        ("webhook", {}, "url: give either url or url_env"),
        ("webhook", {"url": "ftp://x"}, "url: must be an http or https URL"),
        ("webhook", {"url": "http://h.example/", "format": "xml"}, "format: must be one of"),
        ("webhook", {"url": "http://h.example/", "format": "template"}, "template: required"),
        ("webhook", {"url": "http://h.example/", "format": "template", "template": "{% if %}"}, "template:"),
        ("pagerduty", {"routing_key_env": ""}, "routing_key_env: required"),
        ("telegram", {"bot_token_env": "HOME", "chat_id": "not a chat"}, "chat_id: must be a numeric chat id"),
        ("ntfy", {"topic": "no/slashes"}, "topic: letters, digits"),
        ("teams", [], "config: must be a JSON object"),
    ],
)
def test_bad_config_is_a_validation_error_naming_the_field(kind, config, error):
    with pytest.raises(ValidationError) as caught:
        NOTIFIERS[kind].validate_config(config)
    assert caught.value.message_dict["config"][0].startswith(error)


def test_every_channel_kind_has_a_notifier():
    assert set(NOTIFIERS) == set(Channel.Kind.values)
