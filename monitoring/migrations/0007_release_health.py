# Release health: session counts and users per release.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('monitoring', '0006_error_user_reports'),
    ]

    operations = [
        migrations.CreateModel(
            name='ReleaseHealth',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('release', models.CharField(max_length=250)),
                ('environment', models.CharField(blank=True, max_length=64)),
                ('day', models.DateField()),
                ('sessions', models.PositiveBigIntegerField(default=0)),
                ('errored', models.PositiveBigIntegerField(default=0)),
                ('crashed', models.PositiveBigIntegerField(default=0)),
                ('abnormal', models.PositiveBigIntegerField(default=0)),
                ('project', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='release_health', to='monitoring.project')),
            ],
            options={
                'verbose_name_plural': 'release health',
                'constraints': [models.UniqueConstraint(fields=('project', 'release', 'environment', 'day'), name='releasehealth_unique')],
            },
        ),
        migrations.CreateModel(
            name='ReleaseHealthUser',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('release', models.CharField(max_length=250)),
                ('environment', models.CharField(blank=True, max_length=64)),
                ('user_hash', models.CharField(max_length=32)),
                ('crashed', models.BooleanField(default=False)),
                ('project', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='monitoring.project')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('project', 'release', 'environment', 'user_hash'), name='releasehealthuser_unique')],
            },
        ),
    ]
