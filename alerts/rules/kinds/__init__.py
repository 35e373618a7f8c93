"""Every rule kind, by the value stored in AlertRule.kind."""

from alerts.rules.kinds.backups import (
    BackupFailed,
    BackupOverdue,
    BackupShrank,
    BackupUnverified,
    BackupVerificationFailed,
)
from alerts.rules.kinds.base import RuleKind
from alerts.rules.kinds.certificate import CertificateExpiry
from alerts.rules.kinds.heartbeat import HeartbeatProblem
from alerts.rules.kinds.issue_frequency import IssueFrequency
from alerts.rules.kinds.metric_threshold import MetricThreshold
from alerts.rules.kinds.new_issue import NewIssue
from alerts.rules.kinds.regression import Regression
from alerts.rules.kinds.release_health import ReleaseHealthThreshold
from alerts.rules.kinds.security import SecurityEventBurst
from alerts.rules.kinds.slo_burn_rate import SloBurnRate
from alerts.rules.kinds.target_status import TargetDown
from alerts.rules.kinds.transaction_availability import TransactionAvailability

RULE_KINDS: dict[str, type[RuleKind]] = {
    kind.kind: kind
    for kind in (
        MetricThreshold,
        NewIssue,
        Regression,
        IssueFrequency,
        ReleaseHealthThreshold,
        TargetDown,
        CertificateExpiry,
        HeartbeatProblem,
        SloBurnRate,
        TransactionAvailability,
        SecurityEventBurst,
        BackupFailed,
        BackupOverdue,
        BackupUnverified,
        BackupVerificationFailed,
        BackupShrank,
    )
}
