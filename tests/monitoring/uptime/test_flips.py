"""Every flip carries its cause, whichever source moved the status, all through one writer."""

import datetime as dt
import importlib
import re
from pathlib import Path

import pytest
import time_machine
from django.apps import apps
from django.utils import timezone

from monitoring.models import Flip, Status
from monitoring.uptime.models import FlipCause
from monitoring.uptime.probes.base import DEGRADED, DOWN, UP, ProbeOutcome
from monitoring.uptime.probes.runner import Probed
from monitoring.uptime.services.actions import targets_pause, targets_resume
from monitoring.uptime.services.flips import flips_record, target_flip
from monitoring.uptime.services.results import probe_results_record
from tests.monitoring.uptime.factories import TargetFactory

pytestmark = pytest.mark.django_db
START = dt.datetime(2026, 3, 1, 3, 0, tzinfo=dt.UTC)
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def report(target, outcome: int, cause: FlipCause | None = None, *, region: str = "local") -> str:
    result = ProbeOutcome(outcome, 12, error="" if outcome == UP else "what the probe said", cause=cause)
    probe_results_record(region=region, probed=[Probed(target.pk, timezone.now(), result)])
    target.refresh_from_db()
    return target.status


def causes(target) -> list[tuple[str, str]]:
    return list(Flip.objects.filter(target=target).order_by("at", "id").values_list("new_status", "cause"))


def test_a_probed_target_flips_for_what_its_probe_saw(clock):
    target = TargetFactory(down_after_failures=1)
    report(target, UP)
    clock.shift(60)
    report(target, DOWN, FlipCause.TIMEOUT)
    clock.shift(60)
    report(target, DOWN, FlipCause.BAD_STATUS)  # still down: no flip, so no new cause
    clock.shift(60)
    report(target, DEGRADED, FlipCause.SLOW)
    clock.shift(60)
    report(target, UP)
    assert causes(target) == [
        (Status.UP, FlipCause.RECOVERED),
        (Status.DOWN, FlipCause.TIMEOUT),
        (Status.DEGRADED, FlipCause.SLOW),
        (Status.UP, FlipCause.RECOVERED),
    ]


def test_across_regions_the_cause_is_the_deciding_regions_then_the_one_still_down(clock):
    target = TargetFactory(regions=["eu", "us"], down_after_failures=1, up_after_successes=2)
    report(target, UP, region="eu")
    report(target, UP, region="us")
    clock.shift(30)
    assert report(target, DOWN, FlipCause.TIMEOUT, region="eu") == Status.DEGRADED  # a minority down
    assert report(target, DOWN, FlipCause.DNS_FAILURE, region="us") == Status.DOWN  # us decided it
    clock.shift(30)
    report(target, UP, region="us")  # us still down: it waits for a second success
    report(target, UP, region="eu")
    clock.shift(30)
    # eu is up again; us, though its last probe passed, is still down for its last failure's cause.
    assert report(target, UP, region="eu") == Status.DEGRADED
    assert causes(target)[1:] == [
        (Status.DEGRADED, FlipCause.TIMEOUT),
        (Status.DOWN, FlipCause.DNS_FAILURE),
        (Status.DEGRADED, FlipCause.DNS_FAILURE),
    ]


def test_an_outcome_without_a_cause_flips_as_unknown_not_as_a_guess(clock):
    target = TargetFactory(down_after_failures=1)
    report(target, DOWN)
    assert causes(target) == [(Status.DOWN, FlipCause.UNKNOWN)]


def test_pause_and_resume_flip_for_the_person_who_did_it(clock):
    target = TargetFactory(status=Status.DOWN)
    assert targets_pause(target_ids=[target.pk], at=START, by="alice") == 1
    assert targets_pause(target_ids=[target.pk], at=START, by="alice") == 0  # already paused: no flip
    assert targets_resume(target_ids=[target.pk], at=START + dt.timedelta(hours=1), by="bob") == 1
    flips = list(Flip.objects.filter(target=target).order_by("at").values_list("old_status", "new_status", "cause"))
    assert flips == [
        (Status.DOWN, Status.PAUSED, FlipCause.PAUSED),
        (Status.PAUSED, Status.UNKNOWN, FlipCause.RESUMED),
    ]
    assert list(Flip.objects.order_by("at").values_list("reason", flat=True)) == ["paused by alice", "resumed by bob"]


def test_the_writer_moves_the_target_and_records_nothing_for_no_change():
    target = TargetFactory(status=Status.UP)
    assert target_flip(target=target, to=Status.UP, at=START, cause=FlipCause.RECOVERED, reason="again") is None
    flip = target_flip(target=target, to=Status.DOWN, at=START, cause=FlipCause.TIMEOUT, reason="x" * 600)
    assert (target.status, target.status_changed_at) == (Status.DOWN, START)
    [stored] = flips_record(flips=[flip, None])
    assert (stored.old_status, stored.new_status, stored.cause, len(stored.reason)) == (
        Status.UP,
        Status.DOWN,
        FlipCause.TIMEOUT,
        500,
    )
    with pytest.raises(ValueError):
        target_flip(target=target, to=Status.UP, at=START, cause="because", reason="")


def test_flips_are_built_and_stored_in_one_place_only():
    """The writer is the one place a Flip is made: a second one would be free to skip the cause."""
    made = re.compile(r"(?<!class )\bFlip\(|\bFlip\.objects\.(create|bulk_create|get_or_create|update_or_create)\b")
    writers = sorted(
        str(path.relative_to(ROOT))
        for folder in ("monitoring", "alerts", "backups", "config")
        for path in (ROOT / folder).rglob("*.py")
        if "migrations" not in path.parts and made.search(path.read_text())
    )
    assert writers == ["monitoring/uptime/services/flips.py"]


MIGRATION = importlib.import_module("monitoring.migrations.0011_flip_cause")


@pytest.mark.parametrize(
    ("old_status", "new_status", "reason", "cause"),
    [
        ("up", "paused", "paused by alice", "paused"),
        ("paused", "unknown", "resumed by bob", "resumed"),
        ("up", "degraded", "late: the ping due at 2026-03-27 03:00:00 UTC has not come", "late"),
        ("degraded", "down", "missing: no ping since the one due at 2026-03-27 03:00:00 UTC, grace 600 s", "missing"),
        ("up", "down", "the job exited with code 2", "exit_code"),
        ("up", "down", "the job signalled a failure", "failure_ping"),
        ("up", "down", "the run took 4000 s, over max_runtime 3600 s", "over_runtime"),
        (
            "up",
            "down",
            "the run started at 2026-03-27 02:00:00 UTC is still going after max_runtime 600 s",
            "over_runtime",
        ),
        ("up", "down", "the run took 5 s, under min_runtime 60 s", "under_runtime"),
        ("down", "up", "ping received", "recovered"),
        ("down", "up", "up after 3 consecutive successes", "recovered"),
        ("up", "down", "down after 2 consecutive failures in local: local: timed out after 10 s", "timeout"),
        ("up", "down", "down after 2 consecutive failures in local: local: status 503 not in 200-399", "bad_status"),
        ("up", "down", "down after 1 consecutive failure in local: local: more than 5 redirects", "too_many_redirects"),
        ("up", "down", "down after 1 consecutive failure in local: local: keyword 'ok' not found", "keyword_failed"),
        ("up", "down", "down after 1 consecutive failure in local: local: body is not JSON", "json_failed"),
        ("up", "degraded", "degraded: local: slow: 900 ms, over 500 ms", "slow"),
        (
            "up",
            "down",
            "down after 1 consecutive failure in local: local: certificate expired on 2026-01-01",
            "certificate_expired",
        ),
        (
            "up",
            "degraded",
            "degraded: local: certificate expires in 5 days (under the 7-day threshold)",
            "certificate_expiring",
        ),
        (
            "up",
            "down",
            "down after 1 consecutive failure in local: local: ClientConnectorCertificateError: Cannot connect to "
            "host shop.example:443 ssl:True [SSLCertVerificationError: (1, '[SSL: CERTIFICATE_VERIFY_FAILED]')]",
            "tls_error",
        ),
        (
            "up",
            "down",
            "down after 1 consecutive failure in local: local: ClientConnectorError: Cannot connect to host "
            "127.0.0.1:9 ssl:default [Connect call failed ('127.0.0.1', 9)]",
            "connection_failed",
        ),
        ("up", "down", "down after 1 consecutive failure in local: local: gone.example does not exist", "dns_failure"),
        (
            "up",
            "down",
            "down after 1 consecutive failure in local: local: answers 1.2.3.4; expected 5.6.7.8",
            "dns_mismatch",
        ),
        (
            "up",
            "down",
            "down after 1 consecutive failure in local: local: environment variable X is not set",
            "config_error",
        ),
        ("up", "down", "down after 1 consecutive failure in local: local: probe error: KeyError", "probe_error"),
        ("up", "degraded", "degraded", "unknown"),
    ],
)
def test_the_migration_reads_old_flips_causes_from_the_reasons_written_until_then(
    old_status, new_status, reason, cause
):
    target = TargetFactory()
    flip = Flip.objects.create(target=target, at=START, old_status=old_status, new_status=new_status, reason=reason)
    assert flip.cause == FlipCause.UNKNOWN  # what the new column holds for rows written before it
    MIGRATION.causes_from_reasons(apps, None)
    flip.refresh_from_db()
    assert flip.cause == cause
