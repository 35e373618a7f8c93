"""API tokens that act within one project."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0020_error_issue_hourly")]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="projects",
            field=models.ManyToManyField(
                blank=True,
                help_text="Limit the token to these projects' objects; none chosen means every project.",
                related_name="+",
                to="monitoring.project",
            ),
        ),
    ]
