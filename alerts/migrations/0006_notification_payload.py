from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0005_rule_group_across_rules"),
    ]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="payload",
            field=models.JSONField(blank=True, editable=False, null=True),
        ),
    ]
