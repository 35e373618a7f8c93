"""Release health from sentry-sdk sessions: crash-free sessions and users per release."""

import json
import uuid

import pytest
import sentry_sdk

from monitoring.errors.selectors import release_health
from monitoring.errors.sessions import InvalidSession, session_counts
from monitoring.models import EnvelopeOutcome


def run_session(*, user, mode="application", crash=False, handled_error=False):
    scope = sentry_sdk.get_isolation_scope()
    scope.set_user({"id": user})
    scope.start_session(session_mode=mode)
    if handled_error:
        try:
            raise ValueError("handled")
        except ValueError:
            sentry_sdk.capture_exception()
    if crash:
        sentry_sdk.capture_event(
            {
                "message": "fatal",
                "level": "fatal",
                "exception": {
                    "values": [{"type": "Crash", "value": "x", "mechanism": {"type": "test", "handled": False}}]
                },
            }
        )
    scope.end_session()


@pytest.mark.django_db(transaction=True)
def test_sdk_sessions_give_crash_free_sessions_and_users(sdk):
    run_session(user="ann")
    run_session(user="ann", handled_error=True)
    run_session(user="bob", crash=True)
    run_session(user="cyd")
    sdk.flush(timeout=10)

    health = release_health(project=sdk_project(sdk), release="shop@1.4.2")
    assert (health.sessions, health.crashed, health.errored) == (4, 1, 1)
    assert health.crash_free_sessions == 0.75
    assert (health.users, health.crashed_users) == (3, 1)
    assert health.crash_free_users == pytest.approx(2 / 3)
    assert release_health(project=sdk_project(sdk), release="shop@1.4.2", environment="staging").sessions == 4


@pytest.mark.django_db(transaction=True)
def test_server_mode_aggregates_count_too(sdk):
    for crash in (False, False, True):
        run_session(user="u", mode="request", crash=crash)
    sdk.flush(timeout=10)
    health = release_health(project=sdk_project(sdk), release="shop@1.4.2")
    assert (health.sessions, health.crashed) == (3, 1)


def sdk_project(client):
    from monitoring.models import Project

    return Project.objects.get(pk=int(client.dsn.rsplit("/", 1)[1]))


def test_a_session_update_counts_its_start_and_its_end_once_each():
    start = {"sid": "s1", "did": "u1", "init": True, "status": "ok", "attrs": {"release": "1.0"}}
    end = {"sid": "s1", "did": "u1", "status": "exited", "errors": 2, "attrs": {"release": "1.0"}}
    assert session_counts("session", start).counts == {"sessions": 1}
    assert session_counts("session", end).counts == {"errored": 1}
    crash = session_counts("session", {**end, "status": "crashed"})
    assert crash.counts == {"crashed": 1} and crash.users == {"u1": True}


@pytest.mark.parametrize(
    "payload",
    [
        {"status": "exited"},
        {"attrs": {"release": ""}},
        {"attrs": {"release": "1.0"}, "status": "sleeping"},
        {"attrs": {"release": "1.0"}, "status": "exited", "errors": -1},
    ],
)
def test_invalid_sessions_are_refused(payload):
    with pytest.raises(InvalidSession):
        session_counts("session", payload)
    with pytest.raises(InvalidSession):
        session_counts("sessions", {"attrs": {"release": "1.0"}, "aggregates": [{"exited": "3"}]})


@pytest.mark.django_db
def test_bad_session_items_are_dropped_and_counted_and_good_ones_kept(client, ingest_key):
    good = {"attrs": {"release": "2.0", "environment": "prod"}, "aggregates": [{"exited": 5, "crashed": 1}]}
    bad = {"attrs": {}, "aggregates": []}
    body = b"{}\n" + b"".join(
        json.dumps({"type": "sessions"}).encode() + b"\n" + json.dumps(p).encode() + b"\n" for p in (good, bad)
    )
    response = client.generic(
        "POST",
        f"/api/{ingest_key.project_id}/envelope/?sentry_key={ingest_key.public_key}",
        body,
        content_type="application/x-sentry-envelope",
    )
    assert response.status_code == 200
    health = release_health(project=ingest_key.project, release="2.0")
    assert (health.sessions, health.crashed, health.crash_free_sessions) == (6, 1, pytest.approx(5 / 6))
    assert EnvelopeOutcome.objects.get().reason == "invalid"


def test_an_unhandled_session_is_errored_not_crashed_as_sentry_counts_it():
    # Browser SDKs end a session "unhandled" on an uncaught error: the page goes on, so
    # Sentry keeps it out of crashed (and crash-free rates) and counts it errored.
    update = {"sid": uuid.uuid4().hex, "did": "u1", "status": "unhandled", "errors": 1, "attrs": {"release": "1.0"}}
    counts = session_counts("session", update)
    assert counts.counts == {"errored": 1} and counts.users == {"u1": False}
    aggregates = {"attrs": {"release": "1.0"}, "aggregates": [{"exited": 2, "unhandled": 1, "crashed": 1}]}
    assert +session_counts("sessions", aggregates).counts == {"sessions": 4, "errored": 1, "crashed": 1}


def test_a_session_still_ok_with_errors_counts_as_errored():
    update = {"sid": uuid.uuid4().hex, "status": "ok", "errors": 1, "attrs": {"release": "1.0"}}
    assert session_counts("session", update).counts == {"errored": 1}
    assert session_counts("session", {**update, "errors": 0}).counts == {}


def send_sessions(client, ingest_key, *updates):
    body = b"{}\n" + b"".join(b'{"type":"session"}\n' + json.dumps(u).encode() + b"\n" for u in updates)
    response = client.generic(
        "POST",
        f"/api/{ingest_key.project_id}/envelope/?sentry_key={ingest_key.public_key}",
        body,
        content_type="application/x-sentry-envelope",
    )
    assert response.status_code == 200


@pytest.mark.django_db
def test_browser_sessions_count_each_session_errored_once_and_unhandled_is_not_a_crash(client, ingest_key):
    attrs = {"release": "web@3.0", "environment": "prod"}

    def browser_session(did, *updates):
        sid = uuid.uuid4().hex
        send_sessions(client, ingest_key, *({"sid": sid, "did": did, "attrs": attrs, **u} for u in updates))

    # What @sentry/browser sends: the page load, then an update at the first error only.
    browser_session("ann", {"init": True, "status": "ok", "errors": 0})
    browser_session("bob", {"init": True, "status": "ok", "errors": 0}, {"status": "ok", "errors": 1})
    browser_session("cyd", {"init": True, "status": "ok", "errors": 0}, {"status": "unhandled", "errors": 1})
    # A handled error first, then an uncaught one: one errored session, not two.
    browser_session(
        "dee",
        {"init": True, "status": "ok", "errors": 0},
        {"status": "ok", "errors": 1},
        {"status": "unhandled", "errors": 1},
    )
    # @sentry/node sends the first error as an update, then the same count as the session ends.
    browser_session(
        "eve",
        {"init": True, "status": "ok", "errors": 0},
        {"status": "ok", "errors": 1},
        {"status": "exited", "errors": 3},
    )
    browser_session("fay", {"init": True, "status": "ok", "errors": 0}, {"status": "crashed", "errors": 1})

    health = release_health(project=ingest_key.project, release="web@3.0")
    assert (health.sessions, health.errored, health.crashed) == (6, 4, 1)
    assert health.crash_free_sessions == pytest.approx(5 / 6)
    assert (health.users, health.crashed_users) == (6, 1)
    assert not EnvelopeOutcome.objects.exists()
