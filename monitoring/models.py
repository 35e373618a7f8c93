"""The face Django needs: every model of the monitoring app, each defined in its feature's folder."""

from monitoring.errors.models import (
    Deploy,
    EnvelopeOutcome,
    ErrorClassificationRule,
    ErrorEvent,
    ErrorIssue,
    ErrorIssueActivity,
    ErrorIssueSeenIn,
    ErrorIssueTally,
    ErrorIssueUser,
    ErrorUserReport,
    Release,
    ReleaseCommit,
    ReleaseHealth,
    ReleaseHealthUser,
)
from monitoring.health.models import Pulse
from monitoring.heartbeats.models import Heartbeat, HeartbeatPing
from monitoring.projects.models import ApiToken, Environment, IngestKey, Project
from monitoring.telemetry.models import (
    IngestRejection,
    MetricPoint,
    MetricRollup,
    MetricSeries,
    MetricTagValue,
    RollupBacklog,
)
from monitoring.uptime.models import Flip, ProbeResult, Status, Tag, Target, TargetRollup, TargetRollupCursor

__all__ = [
    "ApiToken",
    "Deploy",
    "EnvelopeOutcome",
    "Environment",
    "ErrorClassificationRule",
    "ErrorEvent",
    "ErrorIssue",
    "ErrorIssueActivity",
    "ErrorIssueSeenIn",
    "ErrorIssueTally",
    "ErrorIssueUser",
    "ErrorUserReport",
    "Flip",
    "Heartbeat",
    "HeartbeatPing",
    "IngestKey",
    "IngestRejection",
    "MetricPoint",
    "MetricRollup",
    "MetricSeries",
    "MetricTagValue",
    "ProbeResult",
    "Project",
    "Pulse",
    "Release",
    "ReleaseCommit",
    "ReleaseHealth",
    "ReleaseHealthUser",
    "RollupBacklog",
    "Status",
    "Tag",
    "Target",
    "TargetRollup",
    "TargetRollupCursor",
]
