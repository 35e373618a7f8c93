"""Channels over the token API: config checked by the notifier kind, secrets named, a real test send."""

import pytest

from alerts.models import Channel, DeliveryAttempt
from tests.alerts.api.conftest import queries_for
from tests.alerts.delivery.sink import serve_sink

pytestmark = pytest.mark.django_db


@pytest.fixture
def sink(settings):
    settings.ALERTS_OUTBOUND_TIMEOUT_SECONDS = 2.0
    with serve_sink() as running:
        yield running


def test_a_channel_is_created_changed_and_its_test_really_sent(writer, reader, sink):
    made = writer.post(
        "/api/v1/channels",
        {"name": "ops hook", "kind": "webhook", "config": {"url": f"{sink.url}/hook"}, "allow_private": True},
        format="json",
    )
    assert made.status_code == 201, made.content
    channel = made.json()
    sent = writer.post(f"/api/v1/channels/{channel['id']}/send-test")
    assert sent.status_code == 200 and sent.json()["ok"] is True, sent.content
    assert len(sink.requests) == 1
    renamed = writer.patch(f"/api/v1/channels/{channel['id']}", {"name": "ops"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["config"] == channel["config"]
    assert [c["name"] for c in reader.get("/api/v1/channels").json()["results"]] == ["ops"]


def test_a_failed_test_answers_the_error_it_logged(writer):
    made = writer.post(
        "/api/v1/channels",
        {"name": "dead", "kind": "webhook", "config": {"url": "http://127.0.0.1:9/hook"}, "allow_private": True},
        format="json",
    ).json()
    sent = writer.post(f"/api/v1/channels/{made['id']}/send-test")
    assert sent.status_code == 200 and sent.json()["ok"] is False and sent.json()["error"]
    assert DeliveryAttempt.objects.filter(channel_id=made["id"], ok=False).count() == 1


def test_secrets_are_environment_variable_names_shown_present_or_missing(writer, monkeypatch):
    monkeypatch.setenv("OPS_HOOK_URL", "http://127.0.0.1:9/hook?token=s3cret")
    body = {"name": "hook", "kind": "webhook", "config": {"url_env": "OPS_HOOK_URL"}, "allow_private": True}
    made = writer.post("/api/v1/channels", body, format="json")
    assert made.status_code == 201, made.content
    assert made.json()["secrets"] == {"url_env": "present"}
    assert "s3cret" not in made.content.decode()
    monkeypatch.delenv("OPS_HOOK_URL")
    assert writer.get(f"/api/v1/channels/{made.json()['id']}").json()["secrets"] == {"url_env": "missing"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "slack", "config": {"url_env": "NOT_SET_ANYWHERE_X"}}, "config"),
        ({"kind": "webhook", "config": {"url": "http://127.0.0.1:9/hook"}}, "config"),  # private, not allowed
        ({"kind": "webhook", "config": {}}, "config"),
        ({"kind": "pigeon", "config": {}}, "kind"),
        ({"kind": "email", "config": "to everyone"}, "config"),
        ({"kind": "email", "config": {"to": ["oncall@example.com"]}, "secret": "x"}, "secret"),
    ],
)
def test_a_bad_channel_is_a_400_naming_the_field_and_nothing_is_written(writer, body, field):
    answer = writer.post("/api/v1/channels", {"name": "c", **body}, format="json")
    assert answer.status_code == 400, answer.content
    assert field in answer.json()["fields"]
    assert not Channel.objects.exists()


def test_a_taken_name_is_a_400_naming_it(writer):
    body = {"name": "ops", "kind": "email", "config": {"to": ["oncall@example.com"]}}
    assert writer.post("/api/v1/channels", body, format="json").status_code == 201
    again = writer.post("/api/v1/channels", body, format="json")
    assert again.status_code == 400 and "name" in again.json()["fields"]


def test_read_tokens_and_viewers_neither_write_nor_send(reader, read_admin, viewer_writer, writer):
    made = writer.post(
        "/api/v1/channels", {"name": "ops", "kind": "email", "config": {"to": ["oncall@example.com"]}}, format="json"
    ).json()
    for client in (reader, read_admin, viewer_writer):
        assert client.post(f"/api/v1/channels/{made['id']}/send-test").status_code == 403
        assert client.patch(f"/api/v1/channels/{made['id']}", {"name": "x"}, format="json").status_code == 403
    assert not DeliveryAttempt.objects.exists()


def test_channels_list_in_a_fixed_number_of_queries(reader, writer):
    def add(names):
        for name in names:
            body = {"name": name, "kind": "email", "config": {"to": ["oncall@example.com"]}}
            assert writer.post("/api/v1/channels", body, format="json").status_code == 201

    add(["a", "b"])
    few = queries_for(reader, "/api/v1/channels")
    add(["c", "d", "e", "f"])
    assert queries_for(reader, "/api/v1/channels") == few
