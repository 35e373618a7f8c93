"""Daily and weekly digest opt-ins per staff user and project."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0008_status_subscribers"),
        ("monitoring", "0021_project_scoped_tokens"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="DigestSubscription",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("cadence", models.CharField(choices=[("daily", "Daily"), ("weekly", "Weekly")], max_length=6)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "project",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="digest_subscriptions",
                        to="monitoring.project",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        limit_choices_to={"is_active": True, "is_staff": True},
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="digest_subscriptions",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={"ordering": ["project__name", "cadence", "user__username"]},
        ),
        migrations.CreateModel(
            name="DigestDelivery",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("period_start", models.DateTimeField()),
                ("period_end", models.DateTimeField()),
                ("idempotency_key", models.CharField(max_length=64, unique=True)),
                ("to", models.EmailField(max_length=254)),
                ("subject", models.CharField(max_length=300)),
                ("text", models.TextField()),
                ("html", models.TextField()),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Pending"),
                            ("sending", "Sending"),
                            ("delivered", "Delivered"),
                            ("failed", "Failed"),
                        ],
                        default="pending",
                        max_length=9,
                    ),
                ),
                ("attempts", models.PositiveSmallIntegerField(default=0)),
                ("next_attempt_at", models.DateTimeField(blank=True, null=True)),
                ("lease_until", models.DateTimeField(blank=True, null=True)),
                ("created_at", models.DateTimeField()),
                ("delivered_at", models.DateTimeField(blank=True, null=True)),
                ("last_error", models.CharField(blank=True, max_length=500)),
                (
                    "subscription",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="deliveries",
                        to="alerts.digestsubscription",
                    ),
                ),
            ],
            options={"verbose_name_plural": "digest deliveries", "ordering": ["-period_start", "-id"]},
        ),
        migrations.AddConstraint(
            model_name="digestsubscription",
            constraint=models.UniqueConstraint(
                fields=("user", "project", "cadence"), name="digest_one_per_user_project_cadence"
            ),
        ),
        migrations.AddIndex(
            model_name="digestdelivery",
            index=models.Index(
                condition=models.Q(("status__in", ["pending", "sending"])),
                fields=["next_attempt_at"],
                name="digest_delivery_due_idx",
            ),
        ),
        migrations.AddConstraint(
            model_name="digestdelivery",
            constraint=models.UniqueConstraint(fields=("subscription", "period_start"), name="digest_one_per_period"),
        ),
    ]
