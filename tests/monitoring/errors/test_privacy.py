"""Scrubbing on the server before storing: denylist, bearer tokens, cards, client IPs, project keys."""

import json
import uuid

import pytest

from monitoring.common.scrubbing import FILTERED
from monitoring.errors.privacy import event_privatise
from monitoring.models import ErrorEvent

pytestmark = pytest.mark.django_db


def sent_event():
    return {
        "event_id": uuid.uuid4().hex,
        "message": "charge failed for card 4242-4242-4242-4242",
        "user": {"id": "42", "ip_address": "{{auto}}"},
        "request": {
            "url": "https://shop.example/pay",
            "headers": {
                "Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig",
                "X-Forwarded-For": "198.51.100.7",
                "Accept": "application/json",
            },
            "env": {"REMOTE_ADDR": "198.51.100.7", "SERVER_NAME": "web-1"},
            "data": {"password": "hunter2", "customer_pin": "1234", "amount": 12},
        },
        "breadcrumbs": {"values": [{"message": "retry with token abcdefghijkl0123"}]},
    }


def store(client, key, event, remote_addr="203.0.113.50"):
    body = b"{}\n" + json.dumps({"type": "event"}).encode() + b"\n" + json.dumps(event).encode() + b"\n"
    response = client.generic(
        "POST",
        f"/api/{key.project_id}/envelope/?sentry_key={key.public_key}",
        body,
        content_type="application/x-sentry-envelope",
        REMOTE_ADDR=remote_addr,
    )
    assert response.status_code == 200
    return ErrorEvent.objects.get(event_id=event["event_id"]).payload


def test_secrets_cards_tokens_and_ip_are_gone_before_storage(client, ingest_key):
    stored = store(client, ingest_key, sent_event())
    request = stored["request"]
    assert request["headers"] == {"Authorization": FILTERED, "Accept": "application/json"}
    assert request["env"] == {"SERVER_NAME": "web-1"}
    assert request["data"] == {"password": FILTERED, "customer_pin": "1234", "amount": 12}
    assert stored["user"] == {"id": "42"}
    assert stored["message"] == f"charge failed for card {FILTERED}"
    assert stored["breadcrumbs"]["values"][0]["message"] == f"retry with token {FILTERED}"
    assert "198.51.100.7" not in json.dumps(stored) and "203.0.113.50" not in json.dumps(stored)


def test_a_project_adds_keys_of_its_own(client, ingest_key):
    project = ingest_key.project
    project.errors_scrub_extra_keys = "pin\n  iban \n"
    project.save()
    event = sent_event()
    event["extra"] = {"iban": "DE89370400440532013000"}
    stored = store(client, ingest_key, event)
    assert stored["request"]["data"]["customer_pin"] == FILTERED
    assert stored["extra"]["iban"] == FILTERED


def test_a_project_may_opt_in_to_client_ips(client, ingest_key):
    project = ingest_key.project
    project.errors_store_client_ip = True
    project.save()
    stored = store(client, ingest_key, sent_event(), remote_addr="203.0.113.50")
    assert stored["user"]["ip_address"] == "203.0.113.50"  # {{auto}} filled in with the sender's address
    assert stored["request"]["env"]["REMOTE_ADDR"] == "198.51.100.7"
    assert stored["request"]["data"]["password"] == FILTERED  # still scrubbed


def test_scrubbing_can_be_turned_off_but_ips_still_go_unless_opted_in():
    event = sent_event()
    kept = event_privatise(event, scrub_data=False, extra_keys=[], keep_client_ip=False, client_ip="203.0.113.5")
    assert kept["request"]["data"]["password"] == "hunter2"
    assert "ip_address" not in kept["user"] and "REMOTE_ADDR" not in kept["request"]["env"]
    assert event["user"]["ip_address"] == "{{auto}}"  # the caller's dict is left alone


def test_header_lists_lose_forwarding_headers_too():
    event = {"request": {"headers": [["X-Real-IP", "10.0.0.1"], ["Accept", "*/*"]]}}
    kept = event_privatise(event, scrub_data=True, extra_keys=[], keep_client_ip=False, client_ip=None)
    assert kept["request"]["headers"] == [["Accept", "*/*"]]
