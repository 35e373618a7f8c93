"""Error ingest is limited per ingest key: the things envelopes carry, counted one per
event, transaction, session, span, check-in or attachment (ERRORS_RATE_PER_SECOND, up to
ERRORS_RATE_BURST), so one envelope of many items costs what many envelopes would; and,
where ERRORS_CATEGORY_RATE_LIMITS names budgets, the items of each data category (error,
transaction, session, …), as Sentry's quotas are."""

from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from monitoring.common.ratelimit import token_bucket_take


def rate_limit_wait(*, key_id: int, cost: int = 1) -> int:
    """0 if the key may send `cost` items now (taking as many tokens), else the seconds until it may."""
    if settings.ERRORS_RATE_PER_SECOND <= 0 or cost <= 0:
        return 0  # no limit configured, or nothing to count
    return token_bucket_take(
        bucket=f"errors:bucket:{key_id}",
        rate=settings.ERRORS_RATE_PER_SECOND,
        burst=settings.ERRORS_RATE_BURST,
        cost=cost,
    )


@lru_cache(maxsize=8)
def category_budgets(spec: str) -> dict[str, tuple[float, int]]:
    """'error=50/500, transaction=200/2000' → {category: (rate per second, burst)}."""
    budgets = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        category, _, budget = part.partition("=")
        rate, _, burst = budget.partition("/")
        try:
            budgets[category.strip()] = (float(rate), int(burst or max(1, float(rate))))
        except ValueError:
            raise ImproperlyConfigured(f"ERRORS_CATEGORY_RATE_LIMITS: {part!r} is not category=rate/burst") from None
    return budgets


def category_wait(*, key_id: int, category: str) -> int:
    """0 if the key may send one more item of `category` (taking a token), else the wait."""
    budget = category_budgets(settings.ERRORS_CATEGORY_RATE_LIMITS).get(category)
    if budget is None:
        return 0
    rate, burst = budget
    return token_bucket_take(bucket=f"errors:bucket:{key_id}:{category}", rate=rate, burst=burst)
