import pytest

from config.celery import QUEUES, app


@pytest.mark.parametrize(
    "task_name, queue",
    [
        ("monitoring.tasks.housekeeping.housekeeping", "default"),
        ("monitoring.tasks.probes.run_batch", "probes"),
        ("monitoring.tasks.ingest.store_batch", "ingest"),
        ("alerts.tasks.delivery.deliver", "notify"),
        ("backups.tasks.run_plan", "backups"),
    ],
)
def test_tasks_are_routed_to_their_queue_by_module(task_name, queue):
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
