"""Maintenance windows remember the targets they paused; a default inhibit rule.

The default rule lets a critical alert about a target mute that target's lesser alerts
(a down API need not also page for its latency or its certificate). It compares only
`target_id`, and only alerts that carry one: alerts without a target (a project's error
rate) are left alone, so a critical in one place never hides a warning somewhere else.
"""

from django.db import migrations, models

DEFAULT_RULE = {
    "name": "Critical mutes lesser alerts about the same target",
    "source_matchers": [{"name": "severity", "op": "=", "value": "critical"}],
    "target_matchers": [{"name": "severity", "op": "=~", "value": "high|medium|low"}],
    "equal": ["target_id"],
}


def seed_inhibit_rule(apps, schema_editor):
    InhibitRule = apps.get_model("alerts", "InhibitRule")
    InhibitRule.objects.get_or_create(name=DEFAULT_RULE["name"], defaults=DEFAULT_RULE)


def unseed_inhibit_rule(apps, schema_editor):
    apps.get_model("alerts", "InhibitRule").objects.filter(name=DEFAULT_RULE["name"]).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("alerts", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="maintenancewindow",
            name="paused_target_ids",
            field=models.JSONField(blank=True, default=list, editable=False),
        ),
        migrations.RunPython(seed_inhibit_rule, unseed_inhibit_rule),
    ]
