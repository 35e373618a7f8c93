from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = "Monitoring"

    def ready(self):
        from monitoring import configuration
        from monitoring.common import (
            checks,  # noqa: F401  registers the system checks
            task_context,  # noqa: F401  connects Celery's request-id signals
        )
        from monitoring.metrics import task_metrics  # noqa: F401  shared metric files, task counters
        from monitoring.projects.api import schema  # noqa: F401  registers the OpenAPI auth extensions

        # Targets (heartbeats among them) in the configuration document that backups owns.
        configuration.register()
