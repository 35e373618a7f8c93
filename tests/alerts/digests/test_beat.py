"""The digest ticks are on beat's schedule, expire before the next tick, and exist; sending
runs on the notify workers, composing on default."""

import pytest

from config.celery import app


@pytest.mark.parametrize(
    ("entry", "task", "queue"),
    [("compose-digests", "digests.compose_due", None), ("deliver-due-digests", "digests.deliver_due", "notify")],
)
def test_each_tick_is_scheduled_and_registered(entry, task, queue):
    scheduled = app.conf.beat_schedule[entry]
    assert scheduled["task"] == task
    assert scheduled["options"]["expires"] < scheduled["schedule"]
    assert scheduled["options"].get("queue") == queue
    assert app.amqp.router.route({}, task)["queue"].name == "default"
    app.loader.import_default_modules()
    assert task in app.tasks and "digests.deliver" in app.tasks
