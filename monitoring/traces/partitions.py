"""Transactions and spans are kept in day partitions on PostgreSQL."""

from monitoring.common.partitions import DailyPartitions
from monitoring.traces.models import Span, Transaction

transactions = DailyPartitions(Transaction, time_field="start")
spans = DailyPartitions(Span, time_field="start")
