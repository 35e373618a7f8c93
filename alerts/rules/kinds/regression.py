"""A regression: a resolved issue came back within the window."""

from alerts.rules.kinds.issues import IssuesInWindow
from monitoring.errors.selectors import error_issues_regressed


class Regression(IssuesInWindow):
    kind = "error_regression"
    label = "Error tracking: a regression"
    happened = "issue regressed"
    select = staticmethod(error_issues_regressed)
