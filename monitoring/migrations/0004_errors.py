"""Error tracking. On PostgreSQL events go to a table partitioned by day, so retention
drops a day's partition instead of deleting rows; elsewhere it is a plain table."""

import django.db.models.deletion
from django.db import migrations, models

EVENTS = "monitoring_errorevent"

# Primary key (timestamp, id): a partitioned table's unique keys must hold the partition
# key. bigserial rather than identity, which PostgreSQL < 17 refuses on partitioned tables.
# Foreign keys, the index and the unique constraint are added by Django after this swap.
PARTITIONED_EVENTS = f"""
DROP TABLE {EVENTS};
CREATE TABLE {EVENTS} (
    id bigserial NOT NULL,
    project_id bigint NOT NULL,
    issue_id bigint NOT NULL,
    event_id uuid NOT NULL,
    grouping_hash varchar(64) NOT NULL,
    timestamp timestamp with time zone NOT NULL,
    received_at timestamp with time zone NOT NULL,
    level varchar(8) NOT NULL,
    release varchar(250) NOT NULL,
    environment varchar(64) NOT NULL,
    user_hash varchar(32) NOT NULL,
    payload jsonb NOT NULL,
    PRIMARY KEY (timestamp, id)
) PARTITION BY RANGE (timestamp);
"""


def partition_events_by_day(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PARTITIONED_EVENTS)


class Migration(migrations.Migration):

    dependencies = [
        ('monitoring', '0003_telemetry'),
    ]

    operations = [
        migrations.AddField(
            model_name='project',
            name='errors_scrub_data',
            field=models.BooleanField(default=True, help_text='Filter passwords, tokens, card numbers and the like from error events before storing them.'),
        ),
        migrations.AddField(
            model_name='project',
            name='errors_scrub_extra_keys',
            field=models.TextField(blank=True, help_text='More field names to filter from error events, one per line (matched as substrings).'),
        ),
        migrations.AddField(
            model_name='project',
            name='errors_store_client_ip',
            field=models.BooleanField(default=False, help_text='Keep the client IP address in error events (removed by default).'),
        ),
        migrations.CreateModel(
            name='ErrorIssue',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('grouping_hash', models.CharField(max_length=64)),
                ('title', models.CharField(max_length=500)),
                ('culprit', models.CharField(blank=True, max_length=500)),
                ('type', models.CharField(blank=True, max_length=200)),
                ('level', models.CharField(choices=[('debug', 'Debug'), ('info', 'Info'), ('warning', 'Warning'), ('error', 'Error'), ('fatal', 'Fatal')], default='error', max_length=8)),
                ('first_seen', models.DateTimeField()),
                ('last_seen', models.DateTimeField()),
                ('event_count', models.PositiveBigIntegerField(default=0)),
                ('users_affected', models.PositiveIntegerField(default=0)),
                ('status', models.CharField(choices=[('unresolved', 'Unresolved'), ('resolved', 'Resolved'), ('resolved_next_release', 'Resolved in next release'), ('ignored', 'Ignored'), ('merged', 'Merged')], default='unresolved', max_length=24)),
                ('status_changed_at', models.DateTimeField(blank=True, null=True)),
                ('resolved_in_release', models.CharField(blank=True, max_length=250)),
                ('is_regression', models.BooleanField(default=False)),
                ('regressed_at', models.DateTimeField(blank=True, null=True)),
                ('snooze_until', models.DateTimeField(blank=True, null=True)),
                ('snooze_event_count', models.PositiveIntegerField(blank=True, null=True)),
                ('snooze_count_base', models.PositiveBigIntegerField(blank=True, null=True)),
                ('merged_into', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='merged_issues', to='monitoring.errorissue')),
                ('project', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='error_issues', to='monitoring.project')),
            ],
        ),
        migrations.CreateModel(
            name='ErrorEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('event_id', models.UUIDField()),
                ('grouping_hash', models.CharField(max_length=64)),
                ('timestamp', models.DateTimeField()),
                ('received_at', models.DateTimeField()),
                ('level', models.CharField(default='error', max_length=8)),
                ('release', models.CharField(blank=True, max_length=250)),
                ('environment', models.CharField(blank=True, max_length=64)),
                ('user_hash', models.CharField(blank=True, max_length=32)),
                ('payload', models.JSONField()),
                ('project', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='error_events', to='monitoring.project')),
                ('issue', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='events', to='monitoring.errorissue')),
            ],
        ),
        migrations.RunPython(partition_events_by_day, migrations.RunPython.noop, elidable=False),
        migrations.CreateModel(
            name='ErrorIssueSeenIn',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('dimension', models.CharField(choices=[('release', 'Release'), ('environment', 'Environment')], max_length=12)),
                ('value', models.CharField(max_length=250)),
                ('first_seen', models.DateTimeField()),
                ('last_seen', models.DateTimeField()),
                ('event_count', models.PositiveBigIntegerField(default=0)),
                ('issue', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='seen_in', to='monitoring.errorissue')),
            ],
            options={
                'verbose_name_plural': 'error issue seen in',
            },
        ),
        migrations.CreateModel(
            name='ErrorIssueTally',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('timestamp', models.DateTimeField()),
                ('release', models.CharField(blank=True, max_length=250)),
                ('environment', models.CharField(blank=True, max_length=64)),
                ('issue', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='monitoring.errorissue')),
            ],
        ),
        migrations.CreateModel(
            name='ErrorIssueUser',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('user_hash', models.CharField(max_length=32)),
                ('issue', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='monitoring.errorissue')),
            ],
        ),
        migrations.CreateModel(
            name='Release',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('version', models.CharField(max_length=250)),
                ('first_seen', models.DateTimeField()),
                ('project', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='releases', to='monitoring.project')),
            ],
            options={
                'ordering': ['-first_seen'],
            },
        ),
        migrations.CreateModel(
            name='EnvelopeOutcome',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('category', models.CharField(max_length=32)),
                ('reason', models.CharField(max_length=64)),
                ('from_client', models.BooleanField(default=False)),
                ('quantity', models.PositiveBigIntegerField(default=0)),
                ('project', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='envelope_outcomes', to='monitoring.project')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('project', 'day', 'category', 'reason', 'from_client'), name='envelopeoutcome_unique')],
            },
        ),
        migrations.AddIndex(
            model_name='errorissue',
            index=models.Index(fields=['project', 'status', '-last_seen'], name='errorissue_stream'),
        ),
        migrations.AddConstraint(
            model_name='errorissue',
            constraint=models.UniqueConstraint(fields=('project', 'grouping_hash'), name='errorissue_unique_hash'),
        ),
        migrations.AddIndex(
            model_name='errorevent',
            index=models.Index(fields=['issue', '-timestamp'], name='errorevent_issue_time'),
        ),
        migrations.AddConstraint(
            model_name='errorevent',
            constraint=models.UniqueConstraint(fields=('project', 'event_id', 'timestamp'), name='errorevent_unique_id'),
        ),
        migrations.AddIndex(
            model_name='errorissueseenin',
            index=models.Index(fields=['dimension', 'value'], name='errorissueseenin_value'),
        ),
        migrations.AddConstraint(
            model_name='errorissueseenin',
            constraint=models.UniqueConstraint(fields=('issue', 'dimension', 'value'), name='errorissueseenin_unique'),
        ),
        migrations.AddConstraint(
            model_name='errorissueuser',
            constraint=models.UniqueConstraint(fields=('issue', 'user_hash'), name='errorissueuser_unique'),
        ),
        migrations.AddConstraint(
            model_name='release',
            constraint=models.UniqueConstraint(fields=('project', 'version'), name='release_unique_per_project'),
        ),
    ]
