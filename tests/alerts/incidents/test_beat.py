"""The incident ticks are on beat's schedule, expire before the next tick, and exist."""

import pytest

from config.celery import app


@pytest.mark.parametrize(
    ("entry", "task"),
    [
        ("notify-due-incidents", "incidents.notify_due"),
        ("apply-maintenance-pauses", "incidents.apply_maintenance_pauses"),
    ],
)
def test_each_tick_is_scheduled_runs_on_default_and_is_registered(entry, task):
    scheduled = app.conf.beat_schedule[entry]
    assert scheduled["task"] == task
    assert scheduled["options"]["expires"] < scheduled["schedule"]
    assert app.amqp.router.route({}, task)["queue"].name == "default"
    app.loader.import_default_modules()
    assert task in app.tasks
