"""Sampled transactions and their spans, partitioned by day."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0018_classification_login_and_network_timeouts")]

    operations: list = []
