"""Daily and weekly digest opt-ins per staff user and project."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("alerts", "0008_status_subscribers")]

    operations: list = []
