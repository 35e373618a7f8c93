"""What the error-tracking kinds share: one sample per issue, labelled so a person knows which."""

from alerts.rules.base import Sample
from monitoring.selectors.error_issues import IssueActivity


def issue_sample(activity: IssueActivity, *, value: float) -> Sample:
    return Sample(
        labels={"issue_id": str(activity.issue_id), "issue": activity.title[:120], "issue_project":
                activity.project_slug},
        value=value, breached=True, detail={"level": activity.level, "events": activity.events},
    )
