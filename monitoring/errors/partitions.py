"""Error events are kept in day partitions on PostgreSQL."""

from monitoring.models import ErrorEvent
from monitoring.common.partitions import DailyPartitions

events = DailyPartitions(ErrorEvent)
