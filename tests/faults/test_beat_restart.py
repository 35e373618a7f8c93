"""Beat stopped and started again: the dispatcher's work resumes with nothing done twice and
nothing missed beyond the gap.

A real beat (the database scheduler) and a real worker on the default queue and a region's
probe queue run over the broker against the test database. Targets are probed every 10 s
from a local HTTP server. Beat is stopped for 20 s, then started again. Afterwards each
target's results show: no two probes closer than half an interval (done twice), every gap
at most an interval plus a tick (missed) except the one spanning the outage, which is at most
the outage plus an interval plus a tick.
"""

import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from monitoring.models import ProbeResult
from tests.benchmarks.server import ROOT
from tests.config.test_celery_worker import Worker
from tests.faults.conftest import only_in_fault_suite, record_none
from tests.monitoring.uptime.factories import TargetFactory
from tests.monitoring.uptime.servers import http_app, serve_http
from tests.processes import current_database_url

pytestmark = [only_in_fault_suite, pytest.mark.celery_worker]

INTERVAL = 10
TICK = 5  # config/celery.py: dispatch-due-probes every 5 s
OUTAGE = 20.0
SLACK = 3.0  # a loaded machine: worker pick-up, probe and write


class Beat:
    def __init__(self, log_path):
        env = {
            **os.environ,
            "LOOKOUT_READ_DOT_ENV": "0",
            "LOOKOUT_DATA_DIR": str(settings.DATA_DIR),
            "DATABASE_URL": current_database_url(),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "SENTRY_DSN": "",
        }
        self._log = log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        self._log.close()


def test_beat_stopped_and_restarted_misses_nothing_beyond_the_gap_and_does_nothing_twice(
    transactional_db, tmp_path, bench
):
    region = f"beat-{uuid.uuid4().hex[:8]}"
    worker = Worker(queue=f"default,probes.{region}", hostname=f"{region}@lookout", log_path=tmp_path / "worker.log")
    beat = None
    with serve_http(http_app()) as url:
        targets = [
            TargetFactory(url=f"{url}/ok", regions=[region], interval_seconds=INTERVAL, next_run_at=timezone.now())
            for _ in range(3)
        ]
        try:
            beat = Beat(tmp_path / "beat.log")
            time.sleep(30)
            beat.stop()
            stopped_at = timezone.now()
            time.sleep(OUTAGE)
            restarted_at = timezone.now()
            beat = Beat(tmp_path / "beat.log")
            time.sleep(30)
            beat.stop()
            ended_at = timezone.now()
        finally:
            if beat is not None:
                beat.stop()
            worker.stop()

    twice, missed, gap_figures = 0, 0, []
    for target in targets:
        times = list(
            ProbeResult.objects.filter(target=target, checked_at__lte=ended_at)
            .order_by("checked_at")
            .values_list("checked_at", flat=True)
        )
        assert len(times) >= 4, f"target {target.pk} was probed {len(times)} times:\n" + "\n".join(
            worker.log_lines()[-30:]
        )
        for earlier, later in zip(times, times[1:], strict=False):
            gap = (later - earlier).total_seconds()
            spans_outage = earlier <= restarted_at and later >= stopped_at
            limit = (OUTAGE if spans_outage else 0) + INTERVAL + TICK + SLACK
            twice += gap < INTERVAL / 2
            missed += gap > limit
            if spans_outage:
                gap_figures.append(gap)
        # Probing resumed after the restart.
        assert times[-1] >= restarted_at + timedelta(seconds=1)

    record_none(
        bench, "faults: beat stopped 20 s, probes done twice", twice, unit="probes", out_of=len(targets), of="targets"
    )
    record_none(
        bench,
        "faults: beat stopped 20 s, probes missed beyond the gap",
        missed,
        unit="probes",
        out_of=len(targets),
        of="targets",
    )
    bench.record(
        name="faults: beat stopped 20 s, longest gap across the outage",
        value=max(gap_figures, default=0.0),
        unit="s",
        baseline="outage + interval",
        baseline_value=OUTAGE + INTERVAL,
        goal=f"<= outage + interval + tick ({OUTAGE + INTERVAL + TICK:g} s)",
        met=max(gap_figures, default=0.0) <= OUTAGE + INTERVAL + TICK + SLACK,
    )
    assert twice == 0, "a target was probed twice within half an interval"
    assert missed == 0, "a target went unprobed longer than the gap explains"
