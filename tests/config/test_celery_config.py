import pytest

from config.celery import QUEUES, app


@pytest.mark.parametrize(
    "task_name, queue",
    [
        ("health.housekeeping", "default"),
        ("uptime.dispatch_due_probes", "default"),
        ("uptime.probe_batch", "probes"),
        ("delivery.deliver_notifications", "notify"),
        ("delivery.deliver_due", "notify"),
        ("backups.run_plan", "backups"),
    ],
)
def test_tasks_are_routed_to_their_queue_by_name(task_name, queue):
    assert app.amqp.router.route({}, task_name)["queue"].name == queue


def test_the_five_queues_are_declared():
    declared = {q.name for q in app.conf.task_queues}
    assert set(QUEUES) <= declared
    assert set(QUEUES) == {"default", "probes", "ingest", "notify", "backups"}


def test_tasks_are_safe_to_rerun_and_bounded():
    conf = app.conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.task_serializer == "json" and conf.accept_content == ["json"]
    assert 0 < conf.task_soft_time_limit < conf.task_time_limit
    assert conf.beat_scheduler == "config.beat:CodeDefaultsScheduler"


def _lookout_tasks():
    app.loader.import_default_modules()  # what a worker does at start: finds every feature's tasks.py
    return {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}


def test_every_task_has_a_stable_name_not_its_module_path():
    tasks = _lookout_tasks()
    assert len(tasks) >= 16
    for name, task in tasks.items():
        assert not name.startswith(task.__module__), f"{name} is named after its module; name it explicitly"


def test_every_beat_entry_names_a_registered_task():
    registered = _lookout_tasks()
    for entry, spec in app.conf.beat_schedule.items():
        assert spec["task"] in registered, f"beat entry {entry!r} names {spec['task']!r}, which no worker knows"
