"""Status page subscribers: email (double opt-in), webhooks, and what each has been told."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("alerts", "0007_status_pages")]

    operations: list = []
