"""A new issue: an error never seen before in the project appeared within the window."""

from alerts.rules.kinds.issues import IssuesInWindow
from monitoring.errors.selectors import error_issues_new


class NewIssue(IssuesInWindow):
    kind = "error_new_issue"
    label = "Error tracking: a new issue"
    happened = "new issue"
    select = staticmethod(error_issues_new)
