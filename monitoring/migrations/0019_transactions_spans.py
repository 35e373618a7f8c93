"""Sampled transactions and their spans, partitioned by day."""

import django.db.models.deletion
from django.db import migrations, models

# Primary key (start, id): a partitioned table's unique keys must hold the partition key.
# bigserial rather than identity, which PostgreSQL < 17 refuses on partitioned tables. The
# foreign keys, indexes and unique constraints are added by Django after this swap.
PARTITIONED = """
DROP TABLE monitoring_transaction;
CREATE TABLE monitoring_transaction (
    id bigserial NOT NULL,
    project_id bigint NOT NULL,
    trace_id varchar(32) NOT NULL,
    span_id varchar(16) NOT NULL,
    name varchar(200) NOT NULL,
    op varchar(64) NOT NULL,
    status varchar(32) NOT NULL,
    failed boolean NOT NULL,
    start timestamp with time zone NOT NULL,
    "end" timestamp with time zone NOT NULL,
    duration double precision NOT NULL,
    release varchar(250) NOT NULL,
    environment varchar(64) NOT NULL,
    PRIMARY KEY (start, id)
) PARTITION BY RANGE (start);
DROP TABLE monitoring_span;
CREATE TABLE monitoring_span (
    id bigserial NOT NULL,
    project_id bigint NOT NULL,
    trace_id varchar(32) NOT NULL,
    span_id varchar(16) NOT NULL,
    parent_span_id varchar(16) NOT NULL,
    op varchar(64) NOT NULL,
    description varchar(1000) NOT NULL,
    status varchar(32) NOT NULL,
    start timestamp with time zone NOT NULL,
    "end" timestamp with time zone NOT NULL,
    duration double precision NOT NULL,
    data jsonb NOT NULL,
    PRIMARY KEY (start, id)
) PARTITION BY RANGE (start);
"""


def partition_by_day(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PARTITIONED)


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0018_classification_login_and_network_timeouts")]

    operations = [
        migrations.CreateModel(
            name="Span",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("trace_id", models.CharField(max_length=32)),
                ("span_id", models.CharField(max_length=16)),
                ("parent_span_id", models.CharField(blank=True, max_length=16)),
                ("op", models.CharField(blank=True, max_length=64)),
                ("description", models.CharField(blank=True, max_length=1000)),
                ("status", models.CharField(blank=True, max_length=32)),
                ("start", models.DateTimeField()),
                ("end", models.DateTimeField()),
                ("duration", models.FloatField(help_text="Milliseconds.")),
                ("data", models.JSONField(blank=True, default=dict)),
                (
                    "project",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="monitoring.project",
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="Transaction",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("trace_id", models.CharField(max_length=32)),
                ("span_id", models.CharField(max_length=16)),
                ("name", models.CharField(max_length=200)),
                ("op", models.CharField(blank=True, max_length=64)),
                ("status", models.CharField(blank=True, max_length=32)),
                ("failed", models.BooleanField(default=False)),
                ("start", models.DateTimeField()),
                ("end", models.DateTimeField()),
                ("duration", models.FloatField(help_text="Milliseconds.")),
                ("release", models.CharField(blank=True, max_length=250)),
                ("environment", models.CharField(blank=True, max_length=64)),
                (
                    "project",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="monitoring.project",
                    ),
                ),
            ],
        ),
        migrations.RunPython(partition_by_day, migrations.RunPython.noop, elidable=False),
        migrations.AddIndex(model_name="span", index=models.Index(fields=["trace_id"], name="span_trace")),
        migrations.AddConstraint(
            model_name="span",
            constraint=models.UniqueConstraint(
                fields=("project", "trace_id", "span_id", "start"), name="span_unique_span"
            ),
        ),
        migrations.AddIndex(
            model_name="transaction",
            index=models.Index(fields=["project", "name", "start"], name="transaction_name_start"),
        ),
        migrations.AddIndex(
            model_name="transaction", index=models.Index(fields=["trace_id"], name="transaction_trace")
        ),
        migrations.AddConstraint(
            model_name="transaction",
            constraint=models.UniqueConstraint(
                fields=("project", "trace_id", "span_id", "start"), name="transaction_unique_span"
            ),
        ),
    ]
