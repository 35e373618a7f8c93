from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('alerts', '0004_rule_interval_minimum'),
    ]

    operations = [
        migrations.AddField(
            model_name='alertrule',
            name='group_across_rules',
            field=models.BooleanField(default=False, help_text="Group by those labels' values with the alerts of every other rule of the project that does so too, as an Alertmanager route groups whatever rule raised them. The incident keeps the routing of the rule that opened it."),
        ),
    ]
