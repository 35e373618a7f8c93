"""From beat's tick to stored results: dispatcher → probe task → results and status, for real."""

import datetime as dt

import pytest
from django.utils import timezone

from config.celery import app
from monitoring.models import Flip, ProbeResult, Status
from monitoring.uptime.tasks import dispatch_due_probes
from tests.monitoring.uptime.factories import TargetFactory
from tests.monitoring.uptime.servers import closed_port, http_app, serve_http

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager():
    """Run sent tasks in-process: the broker is the outside world here, not the subject."""
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def test_a_tick_probes_every_due_target_and_records_what_it_saw(eager):
    with serve_http(http_app()) as url:
        healthy = TargetFactory(url=f"{url}/ok")
        broken = TargetFactory(url=f"{url}/status/500", down_after_failures=1)
        refused_port = closed_port()
        refused = TargetFactory(url=f"http://127.0.0.1:{refused_port}/", down_after_failures=1)
        slow = TargetFactory(url=f"{url}/slow?ms=800", timeout_seconds=0.3, down_after_failures=1)
        assert dispatch_due_probes() == 4
    results = {r.target_id: r for r in ProbeResult.objects.all()}
    assert results[healthy.pk].status_code == 200
    assert results[broken.pk].error == "status 500 not in 200-399"
    assert results[refused.pk].error == f"connection refused to 127.0.0.1:{refused_port}"
    assert results[slow.pk].error == "timed out after 0.3 s"
    for target, status in [(healthy, Status.UP), (broken, Status.DOWN), (refused, Status.DOWN), (slow, Status.DOWN)]:
        target.refresh_from_db()
        assert target.status == status
    assert Flip.objects.count() == 4
    assert dispatch_due_probes() == 0  # nothing due again until the interval has passed


def test_a_target_due_before_the_next_tick_is_probed_at_its_due_time_not_earlier(eager):
    with serve_http(http_app()) as url:
        due_at = timezone.now() + dt.timedelta(seconds=1)
        target = TargetFactory(url=f"{url}/ok", next_run_at=due_at)
        assert dispatch_due_probes() == 1  # claimed a second early, on this tick
    result = ProbeResult.objects.get(target_id=target.pk)
    assert due_at <= result.checked_at < due_at + dt.timedelta(seconds=1)
