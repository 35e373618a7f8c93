"""Status page components that watch a derived signal (error rate, transaction p95, Web Vital p75)."""

import django.core.validators
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0009_digests"),
        ("monitoring", "0021_project_scoped_tokens"),
    ]

    operations = [
        migrations.AddField(
            model_name="component",
            name="kind",
            field=models.CharField(
                choices=[
                    ("target", "Target or heartbeat"),
                    ("error_rate", "Error rate of a project"),
                    ("transaction_p95", "p95 of a transaction"),
                    ("vital_p75", "p75 of a Web Vital"),
                ],
                default="target",
                max_length=15,
            ),
        ),
        migrations.AddField(
            model_name="component",
            name="outage_threshold",
            field=models.FloatField(
                blank=True, help_text="Optional: a major outage above this (higher than the threshold).", null=True
            ),
        ),
        migrations.AddField(
            model_name="component",
            name="project",
            field=models.ForeignKey(
                blank=True,
                help_text="Whose facts a derived signal is read from.",
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="status_components",
                to="monitoring.project",
            ),
        ),
        migrations.AddField(
            model_name="component",
            name="route",
            field=models.CharField(
                blank=True, help_text="Only this route's samples; empty for all routes.", max_length=200
            ),
        ),
        migrations.AddField(
            model_name="component",
            name="threshold",
            field=models.FloatField(
                blank=True,
                help_text="Degraded above this: error events per minute, or milliseconds (CLS has no unit).",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="component",
            name="transaction",
            field=models.CharField(
                blank=True,
                help_text="The transaction name, as its transaction.duration metric is tagged.",
                max_length=200,
            ),
        ),
        migrations.AddField(
            model_name="component",
            name="vital",
            field=models.CharField(
                blank=True,
                choices=[("LCP", "LCP"), ("INP", "INP"), ("CLS", "CLS"), ("FCP", "FCP"), ("TTFB", "TTFB")],
                max_length=4,
            ),
        ),
        migrations.AddField(
            model_name="component",
            name="window_minutes",
            field=models.PositiveSmallIntegerField(
                default=10,
                help_text="The signal is read over the last this many minutes.",
                validators=[
                    django.core.validators.MinValueValidator(1),
                    django.core.validators.MaxValueValidator(1440),
                ],
            ),
        ),
        migrations.AlterField(
            model_name="component",
            name="target",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="status_components",
                to="monitoring.target",
            ),
        ),
        migrations.AddConstraint(
            model_name="component",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("kind", "target"),
                        models.Q(("target__isnull", True), _negated=True),
                        ("project__isnull", True),
                        ("threshold__isnull", True),
                        ("outage_threshold__isnull", True),
                        ("transaction", ""),
                        ("vital", ""),
                        ("route", ""),
                    ),
                    models.Q(
                        ("kind", "error_rate"),
                        ("target__isnull", True),
                        models.Q(("project__isnull", True), _negated=True),
                        models.Q(("threshold__isnull", True), _negated=True),
                        ("transaction", ""),
                        ("vital", ""),
                        ("route", ""),
                    ),
                    models.Q(
                        ("kind", "transaction_p95"),
                        ("target__isnull", True),
                        models.Q(("project__isnull", True), _negated=True),
                        models.Q(("threshold__isnull", True), _negated=True),
                        models.Q(("transaction", ""), _negated=True),
                        ("vital", ""),
                        ("route", ""),
                    ),
                    models.Q(
                        ("kind", "vital_p75"),
                        ("target__isnull", True),
                        models.Q(("project__isnull", True), _negated=True),
                        models.Q(("threshold__isnull", True), _negated=True),
                        ("transaction", ""),
                        models.Q(("vital", ""), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="status_component_kind_fields",
            ),
        ),
    ]
