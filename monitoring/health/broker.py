"""Whether the Celery broker can be reached, for each transport Lookout supports."""

import dataclasses
import datetime
import os
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable
from kombu import Connection
from kombu.exceptions import OperationalError

from monitoring.health.components import Component

CONNECT_TIMEOUT_SECONDS = 1.0


@dataclasses.dataclass
class BrokerCheck(Component, HealthCheck):
    """Opens (and closes) one broker connection; the embedded broker is a set of folders.

    The URL stays out of the answer and the logs (repr=False): it may hold a password.
    """

    url: str = dataclasses.field(default_factory=lambda: settings.CELERY_BROKER_URL, repr=False)
    transport_options: dict = dataclasses.field(
        default_factory=lambda: dict(settings.CELERY_BROKER_TRANSPORT_OPTIONS), repr=False
    )

    name = "broker"
    timeout = datetime.timedelta(seconds=CONNECT_TIMEOUT_SECONDS)

    @property
    def component_id(self) -> str:
        return urlsplit(self.url).scheme or "unknown"

    def run(self):
        if self.component_id == "filesystem":
            self._check_folders()
        else:
            self._connect()

    def _check_folders(self):
        # The filesystem transport never "connects": a message is a file, so the broker
        # is reachable when its folders exist and this process may write to them.
        for option in ("data_folder_in", "data_folder_out", "processed_folder"):
            folder = self.transport_options.get(option)
            if folder and not (Path(folder).is_dir() and os.access(folder, os.W_OK | os.X_OK)):
                raise ServiceUnavailable(f"broker folder {option} is missing or not writable")

    def _connect(self):
        options = {**self.transport_options, "socket_timeout": CONNECT_TIMEOUT_SECONDS}
        connection = Connection(self.url, connect_timeout=CONNECT_TIMEOUT_SECONDS, transport_options=options)
        refusals = (OperationalError, OSError, *connection.connection_errors, *connection.channel_errors)
        try:
            # No retry: a health answer reports the broker as it is now.
            connection.ensure_connection(max_retries=0)
        except refusals as exc:
            # The class name says refused login vs. no answer without echoing the URL.
            raise ServiceUnavailable(
                f"cannot connect to the {self.component_id} broker ({type(exc).__name__})"
            ) from exc
        finally:
            connection.release()
