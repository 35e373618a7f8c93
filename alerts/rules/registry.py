"""Every rule kind, by the value stored in AlertRule.kind."""

from alerts.rules.base import RuleKind
from alerts.rules.certificate import CertificateExpiry
from alerts.rules.heartbeat import HeartbeatProblem
from alerts.rules.issue_frequency import IssueFrequency
from alerts.rules.metric_threshold import MetricThreshold
from alerts.rules.new_issue import NewIssue
from alerts.rules.regression import Regression
from alerts.rules.release_health import ReleaseHealthThreshold
from alerts.rules.slo_burn_rate import SloBurnRate
from alerts.rules.target_status import TargetStatus

RULE_KINDS: dict[str, type[RuleKind]] = {
    kind.kind: kind
    for kind in (MetricThreshold, NewIssue, Regression, IssueFrequency, ReleaseHealthThreshold, TargetStatus,
                 CertificateExpiry, HeartbeatProblem, SloBurnRate)
}
