"""Error classification: rules (seeded with the defaults) and an issue's severity, category, alert flag and assignee."""

import django.db.models.deletion
import monitoring.errors.models
from django.conf import settings
from django.db import migrations, models

# The starting rules (the seeds' classification); edited in the admin afterwards.
# (position, name, type pattern, message pattern, severity, category, should alert)
DEFAULT_RULES = [
    (10, "Security", r"Suspicious|Csrf|CSRF|DisallowedHost|SecurityError|Injection",
     r"csrf|sql injection|\bxss\b|disallowed host|signature mismatch", "critical", "security", True),
    (20, "Authentication", r"Authenticat|NotAuthenticated|PermissionDenied|Unauthori[sz]ed|Forbidden|InvalidToken|"
     r"TokenError|AuthError", r"\b40[13]\b|unauthori[sz]ed|invalid token|token expired|not authenticated",
     "medium", "authentication", False),
    (30, "Data integrity", r"IntegrityError|DataError|DatabaseError|Corrupt|Checksum",
     r"duplicate key|violates .*constraint|foreign key|checksum mismatch", "high", "data_integrity", True),
    (40, "Network", r"ConnectionError|ConnectTimeout|ConnectionRefused|ConnectionReset|NetworkError|gaierror|"
     r"SSLError|ClientConnectorError|RequestException|HTTPError",
     r"connection (refused|reset|aborted)|name or service not known|network is unreachable|ECONNREFUSED",
     "high", "network", True),
    (50, "Performance", r"Timeout|TimeLimitExceeded|MemoryError|RecursionError",
     r"timed out|timeout|deadline exceeded|out of memory", "medium", "performance", True),
    (60, "Validation", r"ValidationError|ValueError|ParseError|BadRequest|JSONDecodeError|UnicodeDecodeError",
     r"invalid|is required|must be", "low", "validation", False),
]


def _rows():
    """Each default becomes two rules, since a rule's conditions must all hold: one on the
    exception type, then (after every type rule, as weaker evidence) one on the message."""
    for position, name, types, messages, severity, category, alert in DEFAULT_RULES:
        outcome = {"severity": severity, "category": category, "should_alert": alert}
        yield {"position": position, "name": f"{name} (type)", "type_pattern": types, **outcome}
        yield {"position": position + 100, "name": f"{name} (message)", "message_pattern": messages, **outcome}


def seed_rules(apps, schema_editor):
    Rule = apps.get_model("monitoring", "ErrorClassificationRule")
    Rule.objects.bulk_create(Rule(**row) for row in _rows())


def unseed_rules(apps, schema_editor):
    apps.get_model("monitoring", "ErrorClassificationRule").objects.filter(
        project=None, name__in=[row["name"] for row in _rows()]
    ).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('monitoring', '0007_release_health'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='errorissue',
            name='assignee',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='errorissue',
            name='category',
            field=models.CharField(blank=True, choices=[('authentication', 'Authentication'), ('network', 'Network'), ('validation', 'Validation'), ('performance', 'Performance'), ('security', 'Security'), ('data_integrity', 'data integrity')], max_length=16),
        ),
        migrations.AddField(
            model_name='errorissue',
            name='severity',
            field=models.CharField(blank=True, choices=[('low', 'Low'), ('medium', 'Medium'), ('high', 'High'), ('critical', 'Critical')], max_length=8),
        ),
        migrations.AddField(
            model_name='errorissue',
            name='should_alert',
            field=models.BooleanField(default=False),
        ),
        migrations.CreateModel(
            name='ErrorClassificationRule',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('position', models.PositiveIntegerField(default=100)),
                ('name', models.CharField(max_length=100)),
                ('enabled', models.BooleanField(default=True)),
                ('type_pattern', models.CharField(blank=True, help_text='Matched against the exception types.', max_length=300, validators=[monitoring.errors.models.validate_regex])),
                ('message_pattern', models.CharField(blank=True, help_text='Matched against the exception values and the message.', max_length=300, validators=[monitoring.errors.models.validate_regex])),
                ('tag_key', models.CharField(blank=True, help_text='The event must have this tag.', max_length=64)),
                ('tag_value_pattern', models.CharField(blank=True, max_length=300, validators=[monitoring.errors.models.validate_regex])),
                ('transaction_pattern', models.CharField(blank=True, max_length=300, validators=[monitoring.errors.models.validate_regex])),
                ('severity', models.CharField(choices=[('low', 'Low'), ('medium', 'Medium'), ('high', 'High'), ('critical', 'Critical')], max_length=8)),
                ('category', models.CharField(choices=[('authentication', 'Authentication'), ('network', 'Network'), ('validation', 'Validation'), ('performance', 'Performance'), ('security', 'Security'), ('data_integrity', 'data integrity')], max_length=16)),
                ('should_alert', models.BooleanField(default=False)),
                ('project', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='monitoring.project')),
            ],
            options={
                'ordering': ['position', 'id'],
            },
        ),
        migrations.RunPython(seed_rules, unseed_rules),
    ]
