"""Error events are kept in day partitions on PostgreSQL."""

from monitoring.common.partitions import DailyPartitions
from monitoring.models import ErrorEvent

events = DailyPartitions(ErrorEvent)
