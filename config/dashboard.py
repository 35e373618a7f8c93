"""The admin index: the portal's front door, one tile per question a team asks first.

What is on fire (open incidents), what is down and since when, which heartbeats are late,
which errors are new or came back, how each project's requests and Web Vitals do, who is on
call, and whether the backups are fresh. Every tile reads selectors (alerts through its own,
which only config/ may import next to monitoring) and rollups, never raw rows by the million;
the page's query count does not grow with the data (tests/config/test_dashboard.py).
"""

from collections import Counter
from datetime import timedelta

from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from alerts.incidents.severity import Severity
from alerts.paging.selectors import open_incidents, schedules_now
from backups.selectors import freshness
from monitoring.common.charts import sparkline
from monitoring.errors.selectors import error_issues_new, error_issues_regressed, error_issues_sparklines
from monitoring.health.selectors import health_summary
from monitoring.heartbeats.selectors import heartbeats_late
from monitoring.projects.selectors import projects_with_dsns
from monitoring.telemetry.selectors.overview import projects_telemetry
from monitoring.uptime.selectors import targets_overview

INCIDENTS_SHOWN = 8
ISSUES_SHOWN = 8


def dashboard_callback(request, context):
    now = timezone.now()
    context.update(
        {
            "title": "Dashboard",
            "now": now,
            "projects": projects_with_dsns(),
            "health": health_summary(),
            **_incidents(),
            "targets": targets_overview(),
            "late_heartbeats": heartbeats_late(now=now),
            "issues": _issues(now),
            "telemetry": projects_telemetry(now=now),
            "on_call": schedules_now(now=now),
            "backups": freshness(now),
            "backup_links": {"list": _url("admin:backups_plan_changelist"), "add": _url("admin:backups_plan_add")},
        }
    )
    context["project_rows"] = [(row, context["telemetry"].get(row.project.pk)) for row in context["projects"]]
    return context


def _url(name: str) -> str | None:
    # The backup plans' admin arrives with the backups feature; until then the tile links nowhere.
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def _incidents() -> dict:
    incidents = list(open_incidents()[:200])
    by_severity = Counter(i.severity for i in incidents)
    return {
        "incidents": incidents[:INCIDENTS_SHOWN],
        "incidents_open": len(incidents),
        "incident_counts": [(s.value, by_severity.get(s.value, 0)) for s in Severity],
    }


def _issues(now) -> list[dict]:
    since = now - timedelta(hours=24)
    rows = [("new", i) for i in error_issues_new(project_id=None, since=since, until=now)]
    rows += [("regressed", i) for i in error_issues_regressed(project_id=None, since=since, until=now)]
    rows = sorted(rows, key=lambda r: -r[1].events)[:ISSUES_SHOWN]
    sparks = error_issues_sparklines([issue.issue_id for _, issue in rows], now=now)
    return [
        {
            "why": why,
            "issue": issue,
            "spark": sparkline(
                sparks[issue.issue_id].day.points if issue.issue_id in sparks else [],
                unit="events",
                empty="none in 24 h",
                label="events per hour",
            ),
        }
        for why, issue in rows
    ]
