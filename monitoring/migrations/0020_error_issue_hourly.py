"""Hourly event counts per issue, so the stream reads a rollup instead of raw events."""

from collections import Counter
from datetime import UTC

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Count
from django.db.models.functions import TruncHour


def backfill(apps, schema_editor):
    """Existing events per issue and hour, less the pending tallies that will add them when
    they fold (as services.hourly.error_issue_hours_rebuild, on the historical models)."""
    counts: Counter = Counter()
    for name, sign in (("ErrorEvent", 1), ("ErrorIssueTally", -1)):
        grouped = (
            apps.get_model("monitoring", name)
            .objects.annotate(h=TruncHour("timestamp", tzinfo=UTC))
            .values("issue_id", "h")
            .annotate(n=Count("*"))
            .values_list("issue_id", "h", "n")
        )
        for issue_id, hour, n in grouped.iterator(chunk_size=5_000):
            counts[issue_id, hour] += sign * n
    hourly = apps.get_model("monitoring", "ErrorIssueHourly")
    hourly.objects.bulk_create(
        (hourly(issue_id=i, hour=h, count=n) for (i, h), n in counts.items() if n > 0), batch_size=5_000
    )


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0019_transactions_spans")]

    operations = [
        migrations.CreateModel(
            name="ErrorIssueHourly",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("hour", models.DateTimeField()),
                ("count", models.PositiveIntegerField()),
                (
                    "issue",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="monitoring.errorissue",
                    ),
                ),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("issue", "hour"), name="errorissuehourly_unique")],
                "indexes": [models.Index(fields=["hour"], name="errorissuehourly_hour")],
            },
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
