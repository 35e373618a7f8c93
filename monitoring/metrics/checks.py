"""System check for the /metrics allowlist, so a typo is reported at start, not ignored."""

from django.conf import settings
from django.core.checks import Error, register

from monitoring.metrics.access import parse_networks


@register()
def metrics_allowlist_is_valid(app_configs, **kwargs):
    _, invalid = parse_networks(settings.METRICS_ALLOWED_IPS)
    return [
        Error(
            f"METRICS_ALLOWED_IPS holds {entry!r}, which is neither an IP address nor a network.",
            hint="List addresses or CIDR networks, comma-separated, e.g. 127.0.0.1,10.0.0.0/8.",
            id="lookout.metrics.E001",
        )
        for entry in invalid
    ]
