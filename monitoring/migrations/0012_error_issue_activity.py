"""An error issue's activity: who resolved, ignored, snoozed, merged it (or Lookout, for a
regression or a snooze running out), and when. Issues older than this start with an empty timeline."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('monitoring', '0011_flip_cause'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ErrorIssueActivity',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('at', models.DateTimeField()),
                ('action', models.CharField(choices=[('resolved', 'Resolved'), ('resolved_next_release', 'Resolved in next release'), ('ignored', 'Ignored'), ('snoozed', 'Snoozed'), ('unresolved', 'Unresolved'), ('assigned', 'Assigned'), ('merged', 'Merged into another issue'), ('merged_in', 'Took in a merged issue'), ('unmerged', 'Unmerged'), ('unmerged_out', 'Gave back an unmerged issue'), ('regressed', 'Regressed'), ('snooze_ended', 'Snooze ended')], max_length=24)),
                ('detail', models.JSONField(blank=True, default=dict)),
                ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('issue', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='activity', to='monitoring.errorissue')),
            ],
            options={
                'verbose_name_plural': 'error issue activity',
                'ordering': ['-at', '-id'],
                'indexes': [models.Index(fields=['issue', '-at'], name='errorissueactivity_time')],
            },
        ),
    ]
