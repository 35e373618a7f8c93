# User reports on error events.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('monitoring', '0005_target_rollups'),
    ]

    operations = [
        migrations.CreateModel(
            name='ErrorUserReport',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('event_id', models.UUIDField()),
                ('name', models.CharField(blank=True, max_length=128)),
                ('email', models.CharField(blank=True, max_length=256)),
                ('comments', models.TextField()),
                ('received_at', models.DateTimeField()),
                ('issue', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='user_reports', to='monitoring.errorissue')),
                ('project', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='error_user_reports', to='monitoring.project')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('project', 'event_id'), name='erroruserreport_unique_event')],
            },
        ),
    ]
