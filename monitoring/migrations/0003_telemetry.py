"""The metrics store. On PostgreSQL raw points go to a table partitioned by day, so
retention drops a day's partition instead of deleting rows; elsewhere it is a plain table."""

import django.db.models.deletion
from django.db import migrations, models

POINTS = "monitoring_metricpoint"

# Primary key (timestamp, id): a partitioned table's unique keys must hold the partition
# key. bigserial rather than identity, which PostgreSQL < 17 refuses on partitioned tables.
PARTITIONED_POINTS = f"""
DROP TABLE {POINTS};
CREATE TABLE {POINTS} (
    id bigserial NOT NULL,
    series_id bigint NOT NULL,  -- Django adds its foreign key constraint after this swap
    timestamp timestamp with time zone NOT NULL,
    value double precision NOT NULL,
    PRIMARY KEY (timestamp, id)
) PARTITION BY RANGE (timestamp);
"""


def partition_points_by_day(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PARTITIONED_POINTS)


class Migration(migrations.Migration):

    dependencies = [
        ("monitoring", "0002_targets_heartbeats"),
    ]

    operations = [
        migrations.AddField(
            model_name="project",
            name="telemetry_allowed_origins",
            field=models.TextField(blank=True, help_text="Web origins allowed to send browser telemetry (https://shop.example), one per line."),
        ),
        migrations.AddField(
            model_name="project",
            name="telemetry_max_series",
            field=models.PositiveIntegerField(blank=True, help_text="Most metric series this project may have; empty uses TELEMETRY_MAX_SERIES.", null=True),
        ),
        migrations.AddField(
            model_name="project",
            name="telemetry_max_tag_values",
            field=models.PositiveIntegerField(blank=True, help_text="Most values one tag may take; empty uses TELEMETRY_MAX_TAG_VALUES.", null=True),
        ),
        migrations.CreateModel(
            name="MetricSeries",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=200)),
                ("kind", models.CharField(choices=[("counter", "Counter"), ("gauge", "Gauge"), ("distribution", "Distribution")], default="distribution", max_length=12)),
                ("unit", models.CharField(blank=True, max_length=32)),
                ("tags", models.JSONField(blank=True, default=dict)),
                ("tags_hash", models.CharField(editable=False, max_length=64)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("project", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="metric_series", to="monitoring.project")),
            ],
            options={
                "verbose_name_plural": "metric series",
                "constraints": [models.UniqueConstraint(fields=("project", "name", "tags_hash"), name="metricseries_unique_tags")],
            },
        ),
        migrations.CreateModel(
            name="MetricTagValue",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("key", models.CharField(max_length=64)),
                ("value", models.CharField(max_length=200)),
                ("project", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="metric_tag_values", to="monitoring.project")),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("project", "key", "value"), name="metrictagvalue_unique")],
            },
        ),
        migrations.CreateModel(
            name="MetricPoint",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("timestamp", models.DateTimeField()),
                ("value", models.FloatField()),
                ("series", models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="points", to="monitoring.metricseries")),
            ],
        ),
        migrations.RunPython(partition_points_by_day, migrations.RunPython.noop, elidable=False),
        # After the swap, so PostgreSQL builds it on the partitioned table (and each partition).
        migrations.AddIndex(
            model_name="metricpoint",
            index=models.Index(fields=["series", "timestamp"], name="metricpoint_series_time"),
        ),
        migrations.CreateModel(
            name="MetricRollup",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("resolution", models.PositiveIntegerField(choices=[(60, "minute"), (3600, "hour")])),
                ("start", models.DateTimeField()),
                ("count", models.BigIntegerField()),
                ("sum", models.FloatField()),
                ("min", models.FloatField()),
                ("max", models.FloatField()),
                ("histogram", models.BinaryField()),
                ("series", models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="rollups", to="monitoring.metricseries")),
            ],
            options={
                "indexes": [models.Index(fields=["resolution", "start"], name="metricrollup_resolution_start")],
                "constraints": [models.UniqueConstraint(fields=("series", "resolution", "start"), name="metricrollup_unique_bucket")],
            },
        ),
        migrations.CreateModel(
            name="RollupBacklog",
            fields=[
                ("minute", models.DateTimeField(primary_key=True, serialize=False)),
                ("marked_at", models.DateTimeField()),
            ],
        ),
        migrations.CreateModel(
            name="IngestRejection",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("day", models.DateField()),
                ("reason", models.CharField(choices=[("invalid", "invalid input"), ("too_large", "body too large"), ("throttled", "rate limited"), ("cardinality", "cardinality limit"), ("origin", "origin not allowed")], max_length=12)),
                ("count", models.PositiveBigIntegerField(default=0)),
                ("project", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="ingest_rejections", to="monitoring.project")),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("project", "day", "reason"), name="ingestrejection_unique")],
            },
        ),
    ]
