from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts"

    def ready(self):
        # The issue page lists the incidents an issue opened through this hook, since
        # monitoring may not import alerts (see monitoring/errors/links.py).
        from alerts.incidents.issue_links import issue_incident_links
        from monitoring.errors.links import register_issue_links

        register_issue_links("alerts.incidents", heading="Incidents", provider=issue_incident_links)

        # Rules, channels, policies, schedules, silences and maintenance in the configuration
        # document that backups owns, since backups may not import alerts.
        from alerts import configuration

        configuration.register()
