import pytest
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from config.beat import CodeDefaultsScheduler
from config.celery import app
from monitoring.models import Pulse

pytestmark = pytest.mark.django_db(transaction=True)


def _scheduler():
    return CodeDefaultsScheduler(app=app, lazy=True)


def test_code_defined_entries_are_installed_once_and_admin_edits_survive_a_restart():
    _scheduler().setup_schedule()
    entry = PeriodicTask.objects.get(name="housekeeping")
    assert entry.task == "health.housekeeping"

    # An operator slows it down and disables it in the admin.
    slower, _ = IntervalSchedule.objects.get_or_create(every=6, period=IntervalSchedule.HOURS)
    PeriodicTask.objects.filter(pk=entry.pk).update(interval=slower, enabled=False)

    _scheduler().setup_schedule()  # beat restarts
    entry.refresh_from_db()
    assert (entry.interval_id, entry.enabled) == (slower.pk, False)


def test_a_deleted_entry_is_put_back_at_start():
    _scheduler().setup_schedule()
    PeriodicTask.objects.filter(name="housekeeping").delete()
    _scheduler().setup_schedule()
    assert PeriodicTask.objects.filter(name="housekeeping").exists()


def test_beat_records_its_pulse_when_it_ticks():
    scheduler = _scheduler()
    scheduler.setup_schedule()
    scheduler.tick()
    assert Pulse.objects.filter(kind="beat", name="beat").exists()
