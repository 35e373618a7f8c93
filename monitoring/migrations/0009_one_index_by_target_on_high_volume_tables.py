"""The foreign keys of the high-volume tables lose their own index: a composite index that
starts with the same column serves every lookup by it, and each row written paid for both.

Only the indexes are dropped. Django's AlterField would also drop and re-add the foreign
key constraints, and re-adding one checks every row under a lock that stops pings.
"""

import django.db.models.deletion
from django.db import migrations, models

# (table, the index Django named for the column, the column): the names are the same on
# SQLite and PostgreSQL.
_INDEXES = [
    ("monitoring_flip", "monitoring_flip_target_id_495a5859", "target_id"),
    ("monitoring_heartbeatping", "monitoring_heartbeatping_heartbeat_id_d932900e", "heartbeat_id"),
    ("monitoring_proberesult", "monitoring_proberesult_target_id_cb0fe571", "target_id"),
    ("monitoring_targetrollup", "monitoring_targetrollup_target_id_e0677edb", "target_id"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0008_error_classification"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(f'DROP INDEX IF EXISTS "{index}"',
                                  f'CREATE INDEX "{index}" ON "{table}" ("{column}")')
                for table, index, column in _INDEXES
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="flip",
                    name="target",
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE,
                                            related_name="flips", to="monitoring.target"),
                ),
                migrations.AlterField(
                    model_name="heartbeatping",
                    name="heartbeat",
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE,
                                            related_name="pings", to="monitoring.heartbeat"),
                ),
                migrations.AlterField(
                    model_name="proberesult",
                    name="target",
                    field=models.ForeignKey(db_constraint=False, db_index=False,
                                            on_delete=django.db.models.deletion.DO_NOTHING, related_name="+",
                                            to="monitoring.target"),
                ),
                migrations.AlterField(
                    model_name="targetrollup",
                    name="target",
                    field=models.ForeignKey(db_constraint=False, db_index=False,
                                            on_delete=django.db.models.deletion.DO_NOTHING, related_name="+",
                                            to="monitoring.target"),
                ),
            ],
        ),
    ]
