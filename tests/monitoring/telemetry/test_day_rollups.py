"""Day rollups: closed hours folded into days behind a cursor, and the Web Vitals panel
reading them gives the same figures as from hours alone."""

import math
import random
from dataclasses import asdict
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from monitoring.models import MetricRollup, MetricRollupCursor
from monitoring.telemetry.payloads import PointIn
from monitoring.telemetry.selectors.rollups import days_folded_until
from monitoring.telemetry.selectors.web_vitals import slow_actions, web_vitals_panel
from monitoring.telemetry.services.ingest import telemetry_ingest
from monitoring.telemetry.services.rollups import rollups_build, rollups_fold_days
from monitoring.telemetry.tasks import build_rollups

NOW = datetime(2026, 11, 22, 15, 20, tzinfo=UTC)  # mid-day: every window starts inside a day
DAY = timedelta(days=1)
pytestmark = pytest.mark.django_db


def send(project, when, count, rng):
    """`count` page loads at `when` on three routes, and a user action, as the browser sends them."""
    points = [
        PointIn(name=f"vitals.{name}", value=rng.lognormvariate(mu, 0.6), timestamp=when, tags={"route": f"/r{i % 3}"})
        for i in range(count)
        for name, mu in (("LCP", 7.7), ("INP", 5.2), ("TTFB", 6.4))
    ]
    points.append(PointIn(name="actions", value=rng.uniform(10, 900), timestamp=when, tags={"action": "checkout"}))
    with time_machine.travel(when + timedelta(minutes=1), tick=False):
        telemetry_ingest(project=project, points=points)
        while rollups_build():
            pass


@pytest.fixture
def month(project):
    """Thirty days of page loads, a few times a day at uneven hours."""
    rng = random.Random(7)
    for day in range(30, -1, -1):
        for hour in sorted(rng.sample(range(24), 4)):
            when = (NOW - day * DAY).replace(hour=hour, minute=rng.randrange(60))
            if when < NOW:
                send(project, when, rng.randrange(2, 6), rng)
    return project


def flat(value, path=""):
    """Every leaf of the panel by its path, for comparing two panels number by number."""
    if isinstance(value, dict):
        return {k: v for key, item in value.items() for k, v in flat(item, f"{path}.{key}").items()}
    if isinstance(value, list | tuple):
        return {k: v for i, item in enumerate(value) for k, v in flat(item, f"{path}[{i}]").items()}
    return {path: value}


def assert_same(days, hours):
    days, hours = flat(days), flat(hours)
    assert days.keys() == hours.keys()
    for key, value in hours.items():
        if isinstance(value, float):
            assert math.isclose(days[key], value, rel_tol=1e-9, abs_tol=1e-12), key
        else:
            assert days[key] == value, key


def both_ways(project):
    """The panel and the slowest actions read with day rollups, then from hours alone."""
    with_days = asdict(web_vitals_panel(project, now=NOW)), slow_actions(project, now=NOW)
    MetricRollupCursor.objects.all().delete()  # no cursor: readers take hours only
    return with_days, (asdict(web_vitals_panel(project, now=NOW)), slow_actions(project, now=NOW))


def test_closed_days_fold_once_and_the_panel_reads_the_same_figures(month):
    folded = rollups_fold_days(now=NOW)

    # A day closes when no point may arrive for it any more (its end plus a day of lateness).
    assert days_folded_until() == datetime(2026, 11, 21, tzinfo=UTC)
    assert folded == 29  # from the oldest hour kept, 23 October
    assert MetricRollup.objects.filter(resolution=MetricRollup.Resolution.DAY).count() > 0
    assert rollups_fold_days(now=NOW) == 0  # nothing new closed
    (panel, actions), (from_hours, actions_from_hours) = both_ways(month)
    assert panel["vitals"][0]["count"] > 0 and any(p for p in panel["trends"][0]["p75"])
    assert_same(panel, from_hours)
    assert_same([asdict(a) for a in actions], [asdict(a) for a in actions_from_hours])


def day_rows():
    rows = MetricRollup.objects.filter(resolution=MetricRollup.Resolution.DAY)
    return {
        (s, t, c, total, bytes(h))
        for s, t, c, total, h in rows.values_list("series_id", "start", "count", "sum", "histogram")
    }


def test_folding_again_gives_the_same_days(month):
    rollups_fold_days(now=NOW)
    first = day_rows()
    MetricRollupCursor.objects.all().delete()
    rollups_fold_days(now=NOW)

    assert first and day_rows() == first


def test_a_late_point_in_a_folded_day_folds_that_day_again(month, settings):
    rollups_fold_days(now=NOW)
    settings.TELEMETRY_MAX_LATENESS_SECONDS = 10 * 86_400  # an operator who accepts late points
    send(month, NOW - 5 * DAY, 40, random.Random(1))

    (panel, _), (from_hours, _) = both_ways(month)
    assert_same(panel, from_hours)


def test_the_minute_tick_folds_days_too(month):
    with time_machine.travel(NOW, tick=False):
        build_rollups()

    assert days_folded_until() == datetime(2026, 11, 21, tzinfo=UTC)
