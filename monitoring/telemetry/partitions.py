"""The raw metric points are kept in day partitions on PostgreSQL."""

from monitoring.models import MetricPoint
from monitoring.common.partitions import DailyPartitions

points = DailyPartitions(MetricPoint)
