"""Beat entries stored under the old task paths now name the tasks' stable names.

The scheduler only adds entries that are missing by name, so without this an upgraded beat would
keep sending the old paths, which no worker registers any more, and probes, heartbeat detection,
rollups, rule evaluation and escalation would stop without an error. The alerts app's tasks are
renamed here too: it is one table, and one place to read what changed. The map is written out here, not imported: a migration must
keep meaning the same thing whatever the code later becomes.
"""

from django.db import migrations

RENAMED = {
    "monitoring.tasks.probes.probe_batch_run": "uptime.probe_batch",
    "monitoring.tasks.uptime.dispatch_due_probes": "uptime.dispatch_due_probes",
    "monitoring.tasks.uptime.detect_late_heartbeats": "heartbeats.detect_late",
    "monitoring.tasks.uptime.roll_up_uptime": "uptime.roll_up",
    "monitoring.tasks.uptime.prune_uptime": "uptime.prune",
    "monitoring.tasks.errors.fold_error_issues": "errors.fold_issues",
    "monitoring.tasks.errors.apply_error_retention": "errors.apply_retention",
    "monitoring.tasks.rollups.build_rollups": "telemetry.build_rollups",
    "monitoring.tasks.rollups.apply_telemetry_retention": "telemetry.apply_retention",
    "monitoring.tasks.housekeeping.housekeeping": "health.housekeeping",
    "alerts.tasks.evaluation.evaluate_due_rules": "rules.evaluate_due",
    "alerts.tasks.incidents.notify_due_incidents": "incidents.notify_due",
    "alerts.tasks.incidents.apply_maintenance_pauses": "incidents.apply_maintenance_pauses",
    "alerts.tasks.delivery.deliver_notifications": "delivery.deliver_notifications",
    "alerts.tasks.delivery.deliver_due": "delivery.deliver_due",
    "alerts.tasks.escalation.advance_escalations": "paging.advance_escalations",
}


def rename(mapping):
    def run(apps, schema_editor):
        PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
        for old, new in mapping.items():
            PeriodicTask.objects.filter(task=old).update(task=new)
    return run


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0009_one_index_by_target_on_high_volume_tables"),
        ("django_celery_beat", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(rename(RENAMED), rename({new: old for old, new in RENAMED.items()})),
    ]
