from monitoring.models.projects import Environment, IngestKey, Project
from monitoring.models.errors import (  # noqa: F401  re-exported
    EnvelopeOutcome, ErrorClassificationRule, ErrorEvent, ErrorIssue, ErrorIssueSeenIn, ErrorIssueTally,
    ErrorIssueUser, ErrorUserReport, Release, ReleaseHealth, ReleaseHealthUser,
)
from monitoring.models.heartbeats import Heartbeat, HeartbeatPing
from monitoring.models.pulses import Pulse
from monitoring.models.target_rollups import TargetRollup, TargetRollupCursor
from monitoring.models.targets import Flip, ProbeResult, Status, Tag, Target
from monitoring.models.telemetry import (  # noqa: F401  re-exported
    IngestRejection, MetricPoint, MetricRollup, MetricSeries, MetricTagValue, RollupBacklog,
)
from monitoring.models.tokens import ApiToken

__all__ = [
    "ApiToken", "Environment", "Flip", "Heartbeat", "HeartbeatPing", "IngestKey", "ProbeResult", "Project",
    "Pulse", "Status", "Tag", "Target", "TargetRollup", "TargetRollupCursor",
]
