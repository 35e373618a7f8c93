"""The example rules the portal's first users asked for, offered in the rule editor as a
start: each opens the add form filled in, to be given a project and channels and saved.

The metric names are the ones Lookout itself records (transactions from sentry-sdk) or the
ones its README suggests clients send (memory and pool usage, as percentages)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class ExampleRule:
    key: str
    name: str
    kind: str
    params: dict
    severity: str
    for_seconds: int
    summary: str = ""

    def initial(self) -> dict:
        return {
            "name": self.name,
            "kind": self.kind,
            "params": self.params,
            "severity": self.severity,
            "for_seconds": self.for_seconds,
            "summary": self.summary,
        }


def _above(metric: str, agg: str, threshold: float, **extra) -> dict:
    return {"metric": metric, "agg": agg, "window_minutes": 5, "operator": "gt", "threshold": threshold, **extra}


def _classified(categories: list[str], *, window_minutes: int = 5, severity_from_issue: bool = False) -> dict:
    return {
        "window_minutes": window_minutes,
        "should_alert_only": False,
        "categories": categories,
        "min_severity": None,
        "severity_from_issue": severity_from_issue,
    }


EXAMPLE_RULES = (
    ExampleRule(
        "error-rate",
        "Error rate above 5 %",
        "metric_threshold",
        _above("transaction.failed", "avg", 0.05, group_by_tag="transaction"),
        "high",
        300,
        "Error rate {value} (over 5 %)",
    ),
    ExampleRule(
        "p95-latency",
        "p95 latency above 2 s",
        "metric_threshold",
        _above("transaction.duration", "p95", 2000, group_by_tag="transaction"),
        "high",
        300,
        "p95 latency {value} ms (over 2,000 ms)",
    ),
    ExampleRule(
        "memory",
        "Memory above 85 %",
        "metric_threshold",
        _above("system.memory.percent", "max", 85, per_series=True),
        "medium",
        300,
        "Memory at {value} %",
    ),
    ExampleRule(
        "db-connections",
        "Database connections above 90 % of the pool",
        "metric_threshold",
        _above("db.pool.used_percent", "max", 90, per_series=True),
        "high",
        120,
        "{value} % of the connection pool in use",
    ),
    # Errors routed by their classification (monitoring.errors.classification): what pages
    # and what only notifies is decided by the issue's category, not by one rule for all.
    ExampleRule(
        "login-errors",
        "Login errors page the on-call",
        "error_new_issue",
        _classified(["authentication"]),
        "critical",
        0,
    ),
    ExampleRule(
        "security-errors",
        "Security errors (unauthorized, CSP) page the on-call",
        "error_new_issue",
        _classified(["security"]),
        "critical",
        0,
    ),
    ExampleRule(
        "network-timeouts",
        "Network timeouts only notify",
        "error_frequency",
        {"count": 10, **_classified(["network"], window_minutes=10)},
        "medium",
        0,
    ),
    ExampleRule(
        "classified-errors",
        "Validation, performance and data errors at the issue's own severity",
        "error_new_issue",
        _classified(["validation", "performance", "data_integrity"], severity_from_issue=True),
        "medium",
        0,
    ),
    ExampleRule(
        "login-lockout",
        "A login lockout or an injection attempt",
        "security_event",
        {"kinds": ["account_lockout", "sql_injection", "xss"], "count": 1, "window_minutes": 10},
        "high",
        0,
    ),
    ExampleRule("api-down", "API down for 5 minutes", "target_status", {"statuses": ["down"]}, "critical", 300),
    ExampleRule(
        "health-check", "A health check failed: page at once", "target_status", {"statuses": ["down"]}, "critical", 0
    ),
    # Backups: a failed or missing backup is plain to see; an unproven or shrunken one is the
    # quiet failure nobody notices until the restore. Verification runs weekly by default,
    # hence 8 days before the newest backup counts as unproven.
    ExampleRule("backup-failed", "A backup failed", "backup_failed", {"plans": []}, "high", 0),
    ExampleRule("backup-overdue", "A backup is overdue", "backup_overdue", {"plans": []}, "high", 0),
    ExampleRule(
        "backup-unverified",
        "The newest backup has not been verified for 8 days",
        "backup_unverified",
        {"days": 8, "plans": []},
        "medium",
        0,
    ),
    ExampleRule(
        "backup-verification-failed",
        "A backup failed its test restore",
        "backup_verification_failed",
        {"plans": []},
        "high",
        0,
    ),
    ExampleRule(
        "backup-shrank",
        "A backup is less than half its usual size",
        "backup_size_drop",
        {"drop_percent": 50, "plans": []},
        "high",
        0,
    ),
)
EXAMPLES = {example.key: example for example in EXAMPLE_RULES}
