"""The issue page lists the incidents its issue opened, through the hook alerts registers
(monitoring never imports alerts): a real rule, a real evaluator tick, a real incident."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from alerts.models import Incident
from alerts.rules.kinds import RULE_KINDS
from alerts.rules.services.evaluation import rules_evaluate_due
from monitoring.errors.links import LINKS_SHOWN, error_issue_related_links
from tests.alerts.rules.factories import RuleFactory
from tests.factories import ProjectFactory
from tests.monitoring.errors.factories import store_event

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 23, 9, 0, 30, tzinfo=UTC)


def _incident_for_new_issues(project, *, at=NOW):
    RuleFactory(
        project=project,
        name="New issue",
        kind="error_new_issue",
        next_evaluation_at=at,
        params=RULE_KINDS["error_new_issue"].validate_params({"window_minutes": 5}),
    )
    with time_machine.travel(at, tick=False):
        rules_evaluate_due(now=at)


def test_the_page_links_the_incident_its_issue_opened_and_not_others(admin_client):
    project = ProjectFactory()
    paying = store_event(project, received_at=NOW - timedelta(minutes=2), message="Payment failed")
    quiet = store_event(project, received_at=NOW - timedelta(days=3), message="Old and quiet")
    _incident_for_new_issues(project)
    incident = Incident.objects.get()

    html = admin_client.get(reverse("admin:monitoring_errorissue_change", args=[paying.pk])).content.decode()
    section = html[html.index('data-related="incidents"') :]
    assert reverse("admin:alerts_incident_change", args=[incident.pk]) in section
    assert "triggered" in section.split("</div>\n    </div>")[0]

    other = admin_client.get(reverse("admin:monitoring_errorissue_change", args=[quiet.pk])).content.decode()
    assert "none linked to this issue" in other[other.index('data-related="incidents"') :]


def test_links_are_newest_first_and_capped_in_one_query(django_assert_num_queries):
    project = ProjectFactory()
    issue = store_event(project, received_at=NOW - timedelta(minutes=1), message="Flapping")
    for n in range(LINKS_SHOWN + 2):
        Incident.objects.create(
            project=project,
            title=f"incident {n}",
            dedup_key=f"k{n}",
            labels={"issue_id": str(issue.pk)},
            opened_at=NOW + timedelta(minutes=n),
            status=Incident.Status.RESOLVED,
        )
    with django_assert_num_queries(1):
        [section] = error_issue_related_links(issue)
    assert section.heading == "Incidents"
    assert [link.label for link in section.links][:2] == [
        f"#{Incident.objects.get(title=f'incident {LINKS_SHOWN + 1}').pk} incident {LINKS_SHOWN + 1}",
        f"#{Incident.objects.get(title=f'incident {LINKS_SHOWN}').pk} incident {LINKS_SHOWN}",
    ]
    assert len(section.links) == LINKS_SHOWN
