"""Classifying issues by the editable rules: new issues at ingest, existing ones on demand.

A rule edited in the admin only touches issues made after it; reclassifying applies the
rules as they are now to the issues a person picks, judged by its latest event (what a person sees
on the issue page), and writes only the issues whose verdict changed.
"""

from dataclasses import fields

from django.db.models import Q, QuerySet

from monitoring.errors.classification import Classification, Rule, classify
from monitoring.errors.selectors import error_issue_latest_event
from monitoring.models import ErrorClassificationRule, ErrorIssue, Project

UNCLASSIFIED = Classification(severity="", category="", should_alert=False)


def classification_rules(project: Project) -> list[Rule]:
    """The project's rules and everyone's, in order."""
    rows = ErrorClassificationRule.objects.filter(Q(project=project) | Q(project=None), enabled=True).values(
        *(f.name for f in fields(Rule))
    )
    return [Rule(**row) for row in rows]


def error_issues_reclassify(*, issues: QuerySet[ErrorIssue]) -> int:
    """Apply the current rules to these issues (merged ones skipped); returns how many changed."""
    rules_by_project: dict[int, list[Rule]] = {}
    changed = 0
    rows = (
        issues.exclude(status=ErrorIssue.Status.MERGED)
        .select_related(None)
        .select_related("project")
        .only("id", "project", "severity", "category", "should_alert")
    )
    for issue in rows.iterator(chunk_size=500):
        event = error_issue_latest_event(issue)
        if event is None:
            continue
        if issue.project_id not in rules_by_project:
            rules_by_project[issue.project_id] = classification_rules(issue.project)
        verdict = classify(event.payload, rules_by_project[issue.project_id]) or UNCLASSIFIED
        if (issue.severity, issue.category, issue.should_alert) == (
            verdict.severity,
            verdict.category,
            verdict.should_alert,
        ):
            continue
        # Only these columns: counters may be moving under a concurrent fold.
        ErrorIssue.objects.filter(pk=issue.pk).update(
            severity=verdict.severity, category=verdict.category, should_alert=verdict.should_alert
        )
        changed += 1
    return changed
