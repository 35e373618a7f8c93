# Check-ins arrive in Sentry envelopes, so their tests send through the same ingest fixtures.
from tests.monitoring.errors.conftest import _fold_after_every_event, envelope_url, ingest_key, sdk  # noqa: F401
