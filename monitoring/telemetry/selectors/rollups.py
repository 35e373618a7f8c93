"""Where the day rollups end: readers take days before it and hours from it on."""

from datetime import UTC, datetime, timedelta

from monitoring.models import MetricRollup, MetricRollupCursor

DAY = timedelta(days=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def days_folded_until() -> datetime | None:
    """The end of the days folded from hours; None before the first fold."""
    return (
        MetricRollupCursor.objects.filter(resolution=MetricRollup.Resolution.DAY)
        .values_list("done_until", flat=True)
        .first()
    )


def floor_time(moment: datetime, width: timedelta) -> datetime:
    """The start of the UTC bucket of `width` that holds `moment`."""
    return moment - (moment - _EPOCH) % width
