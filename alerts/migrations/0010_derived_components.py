"""Status page components that watch a derived signal (error rate, transaction p95, Web Vital p75)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("alerts", "0009_digests")]

    operations: list = []
