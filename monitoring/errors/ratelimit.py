"""Error ingest is limited per ingest key: ERRORS_RATE_PER_SECOND, up to ERRORS_RATE_BURST."""

from django.conf import settings

from monitoring.ratelimit import token_bucket_take


def rate_limit_wait(*, key_id: int) -> int:
    """0 if the key may send now (taking a token), else the seconds until it may."""
    if settings.ERRORS_RATE_PER_SECOND <= 0:
        return 0  # no limit configured
    return token_bucket_take(
        bucket=f"errors:bucket:{key_id}", rate=settings.ERRORS_RATE_PER_SECOND, burst=settings.ERRORS_RATE_BURST
    )
