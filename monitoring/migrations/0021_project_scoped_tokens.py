"""API tokens that act within one project."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0020_error_issue_hourly")]

    operations: list = []
