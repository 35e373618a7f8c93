"""The raw metric points are kept in day partitions on PostgreSQL."""

from monitoring.common.partitions import DailyPartitions
from monitoring.models import MetricPoint

points = DailyPartitions(MetricPoint)
