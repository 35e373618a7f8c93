"""Telemetry ingest is limited per ingest key: TELEMETRY_RATE_PER_SECOND, up to TELEMETRY_RATE_BURST."""

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from monitoring.common.ratelimit import token_bucket_take


class IngestKeyTokenBucket(BaseThrottle):
    def __init__(self):
        self.retry_after = None

    def allow_request(self, request, view):
        key = request.auth
        if key is None:
            return True
        self.retry_after = token_bucket_take(
            bucket=f"telemetry:bucket:{key.pk}",
            rate=settings.TELEMETRY_RATE_PER_SECOND,
            burst=settings.TELEMETRY_RATE_BURST,
        )
        return not self.retry_after

    def wait(self):
        return self.retry_after
