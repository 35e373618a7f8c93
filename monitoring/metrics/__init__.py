"""The portal's own Prometheus metrics, shared by every process on a host.

prometheus_client chooses at its import whether values live in process memory or in
files under PROMETHEUS_MULTIPROC_DIR, so this package points the variable at the shared
folder before anything imports prometheus_client. MonitoringConfig.ready() imports it,
and gunicorn workers, Celery workers and beat all run ready() before their first request
or task; a Celery pool child or gunicorn worker forked later inherits both the variable
and the choice. The gunicorn master sets the same variable itself (config/gunicorn.py).
"""

import os

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

_directory = os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(settings.PROMETHEUS_MULTIPROC_DIR))
os.makedirs(_directory, exist_ok=True)

from prometheus_client import values  # noqa: E402  (must follow the variable above)

if values.ValueClass is values.MutexValue:
    # Something imported prometheus_client before the variable was set: each process
    # would count alone and /metrics would show one random worker's share.
    raise ImproperlyConfigured(
        "prometheus_client was imported before PROMETHEUS_MULTIPROC_DIR was set; "
        "import monitoring.metrics first or set the variable in the environment."
    )

from monitoring.metrics import checks  # noqa: E402,F401  registers the system check
