from django.db import migrations, models


def raise_short_intervals(apps, schema_editor):
    # Rules saved outside the form before the constraint existed keep running, at the minimum.
    apps.get_model("alerts", "AlertRule").objects.filter(interval_seconds__lt=10).update(interval_seconds=10)


class Migration(migrations.Migration):

    dependencies = [
        ('alerts', '0003_merge_0002_delivery_0002_incidents'),
        ('monitoring', '0008_error_classification'),
    ]

    operations = [
        migrations.RunPython(raise_short_intervals, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='alertrule',
            constraint=models.CheckConstraint(condition=models.Q(('interval_seconds__gte', 10)), name='rule_interval_at_least_10s'),
        ),
    ]
