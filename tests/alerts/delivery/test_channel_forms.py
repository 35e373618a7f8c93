"""The channel form: each notifier's config as fields, secrets named as environment variables
with their presence shown, bad values on their field, and "send a test" on the channel page."""

import pytest
from django.urls import reverse

from alerts.models import Channel, DeliveryAttempt
from tests.alerts.delivery.factories import ChannelFactory

pytestmark = pytest.mark.django_db

ADD = reverse("admin:alerts_channel_add")


def channel_post(kind: str, **config):
    """What the browser posts for a channel edited with the fields."""
    return {
        "name": "ops",
        "kind": kind,
        "config": "{}",
        "enabled": "on",
        **{f"config_{key}": value for key, value in config.items()},
    }


def field_errors(response) -> dict[str, list[str]]:
    assert response.status_code == 200, response.status_code
    return {name: [str(e) for e in errors] for name, errors in response.context["adminform"].form.errors.items()}


def test_a_slack_channel_names_its_secret_and_shows_whether_it_is_set(admin_client, monkeypatch):
    monkeypatch.setenv("SLACK_OPS_WEBHOOK", "http://127.0.0.1:9/services/T/B/s3cr3t")
    page = admin_client.get(ADD + "?kind=slack").content.decode()
    assert 'name="config_url_env"' in page and 'name="config_to"' not in page

    response = admin_client.post(ADD, {**channel_post("slack", url_env="SLACK_OPS_WEBHOOK"), "allow_private": "on"})
    assert response.status_code == 302, field_errors(response)
    channel = Channel.objects.get()
    assert channel.config == {"url_env": "SLACK_OPS_WEBHOOK"}

    change = reverse("admin:alerts_channel_change", args=[channel.pk])
    page = admin_client.get(change).content.decode()
    assert "SLACK_OPS_WEBHOOK is set (present) on this server" in page
    assert "s3cr3t" not in page  # the value is never read into the page
    monkeypatch.delenv("SLACK_OPS_WEBHOOK")
    assert "SLACK_OPS_WEBHOOK is not set (missing) on this server" in admin_client.get(change).content.decode()


def test_an_email_channel_takes_addresses_one_per_line(admin_client):
    response = admin_client.post(ADD, channel_post("email", to="a@example.com\nb@example.com, c@example.com"))
    assert response.status_code == 302, field_errors(response)
    channel = Channel.objects.get()
    assert channel.config == {"to": ["a@example.com", "b@example.com", "c@example.com"]}
    page = admin_client.get(reverse("admin:alerts_channel_change", args=[channel.pk])).content.decode()
    assert "a@example.com\nb@example.com\nc@example.com</textarea>" in page


@pytest.mark.parametrize(
    ("kind", "config", "field", "says"),
    [
        ("email", {"to": "ops@"}, "config_to", "'ops@' is not an email address"),
        ("email", {"to": ""}, "config_to", "This field is required."),
        ("slack", {"url_env": "LOOKOUT_TEST_UNSET"}, "config_url_env", "LOOKOUT_TEST_UNSET is not set"),
        ("slack", {"url_env": "not a name"}, "config_url_env", "must name an environment variable"),
        ("webhook", {"url": "ftp://example.com/x", "format": "alertmanager"}, "config_url", "must be an http"),
        ("webhook", {"url": "http://127.0.0.1:9/hook", "format": "alertmanager"}, "config_url", "a loopback address"),
        ("webhook", {"url": "https://h.example/", "url_env": "HOME", "format": "alertmanager"}, "config_url", "either"),
        ("webhook", {"url": "https://h.example/", "format": "xml"}, "config_format", "Select a valid choice"),
        (
            "webhook",
            {"url": "https://h.example/", "format": "template", "template": "{% if %}"},
            "config_template",
            "",
        ),
        ("telegram", {"bot_token_env": "HOME", "chat_id": "ops room"}, "config_chat_id", "numeric chat id"),
        ("ntfy", {"topic": "ops alerts"}, "config_topic", "letters, digits, - and _ only"),
        ("pagerduty", {"routing_key_env": ""}, "config_routing_key_env", "This field is required."),
    ],
)
def test_a_bad_value_is_shown_on_its_field_and_saves_nothing(admin_client, kind, config, field, says):
    response = admin_client.post(ADD, channel_post(kind, **config))
    errors = field_errors(response)
    assert field in errors and says in errors[field][0], errors
    assert f'id="id_{field}_error"' in response.content.decode()
    assert not Channel.objects.exists()


def test_the_advanced_json_is_checked_the_same_way_and_its_section_opens(admin_client):
    post = {**channel_post("webhook", url="https://h.example/"), "config_as_json": "on", "config": '{"colour": 1}'}
    response = admin_client.post(ADD, post)
    assert field_errors(response)["config"][0].startswith("colour: unknown field")
    body = response.content.decode()
    advanced = body.index("Advanced: the config as JSON")
    assert "<summary>" not in body[advanced - 400 : advanced]
    post.update(config='{"url": "http://127.0.0.1:9/json"}', allow_private="on")
    response = admin_client.post(ADD, post)
    assert response.status_code == 302, field_errors(response)
    assert Channel.objects.get().config == {"url": "http://127.0.0.1:9/json", "format": "alertmanager"}


@pytest.mark.parametrize("overrides", [{"kind": "carrier-pigeon"}, {"config_url": "x" * 5000}, {"user": "abc"}])
def test_nonsense_is_a_field_error_never_a_500(admin_client, overrides):
    response = admin_client.post(ADD, {**channel_post("webhook", url="https://h.example/"), **overrides})
    assert field_errors(response)
    assert not Channel.objects.exists()


def test_send_a_test_from_the_channel_page_saves_then_sends_and_marks_it_delivered(admin_client, sink):
    channel = ChannelFactory(kind="webhook", config={"url": f"{sink.url}/old"}, name="ops hook", allow_private=True)
    change = reverse("admin:alerts_channel_change", args=[channel.pk])
    assert 'name="_send_test"' in admin_client.get(change).content.decode()

    post = {**channel_post("webhook", url=f"{sink.url}/new", format="alertmanager"), "allow_private": "on"}
    response = admin_client.post(change, {**post, "name": "ops hook", "_send_test": "1"}, follow=True)

    assert "ops hook: test sent HTTP 200" in [str(m) for m in response.context["messages"]]
    (received,) = sink.requests
    assert received.path == "/new"  # the edit was saved before the test went out
    channel.refresh_from_db()
    assert DeliveryAttempt.objects.get().ok and channel.last_delivered_at is not None
    assert channel.consecutive_failures == 0


def test_a_failed_test_from_the_page_says_why_and_leaves_last_delivered_alone(admin_client, sink):
    sink.answer(500)
    channel = ChannelFactory(kind="webhook", config={"url": f"{sink.url}/hook"}, name="ops hook", allow_private=True)
    change = reverse("admin:alerts_channel_change", args=[channel.pk])
    post = {**channel_post("webhook", url=f"{sink.url}/hook", format="alertmanager"), "allow_private": "on"}
    response = admin_client.post(change, {**post, "name": "ops hook", "_send_test": "1"}, follow=True)
    assert "ops hook: test failed: HTTP 500" in [str(m) for m in response.context["messages"]]
    channel.refresh_from_db()
    assert channel.last_delivered_at is None


@pytest.mark.parametrize("query", ["?kind=carrier-pigeon", "?kind=", "?kind=email&name=" + "x" * 500])
def test_odd_addresses_still_open_the_channel_form(admin_client, query):
    assert admin_client.get(ADD + query).status_code == 200
