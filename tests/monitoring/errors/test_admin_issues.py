"""The issue stream and issue page in the admin."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from monitoring.models import ErrorIssue
from tests.factories import ProjectFactory
from tests.monitoring.errors.factories import store_event

pytestmark = pytest.mark.django_db
STREAM = "admin:monitoring_errorissue_changelist"


def crash(function="checkout", **extra):
    return {
        "exception": {
            "values": [
                {
                    "type": "KeyError",
                    "value": "'total'",
                    "stacktrace": {
                        "frames": [
                            {
                                "module": "django.core.handlers",
                                "function": "get_response",
                                "lineno": 10,
                                "in_app": False,
                            },
                            {
                                "module": "shop.views",
                                "function": function,
                                "lineno": 42,
                                "in_app": True,
                                "pre_context": ["def checkout(order):"],
                                "context_line": "    return order['total']",
                                "post_context": [""],
                                "vars": {"order": "{'id': 7}"},
                            },
                        ]
                    },
                }
            ]
        },
        **extra,
    }


def test_stream_sorts_by_last_seen_frequency_and_users(admin_client):
    project = ProjectFactory()
    for _ in range(3):
        store_event(project, message="frequent")
    store_event(project, message="many users", user={"id": "a"})
    store_event(project, message="many users", user={"id": "b"})
    store_event(project, message="latest")
    url = reverse(STREAM)
    titles = lambda response: [i.title for i in response.context["cl"].result_list]  # noqa: E731
    assert titles(admin_client.get(url))[0] == "latest"
    assert titles(admin_client.get(url, {"o": "-4"}))[0] == "frequent"  # event_count column
    assert titles(admin_client.get(url, {"o": "-5"}))[0] == "many users"  # users_affected column


def test_stream_filters_by_status_release_environment_and_level(admin_client):
    project = ProjectFactory()
    store_event(project, message="in 1.0", release="1.0", environment="prod", level="warning")
    resolved = store_event(project, message="old", release="0.9")
    resolved.status = ErrorIssue.Status.RESOLVED
    resolved.save()
    url = reverse(STREAM)

    def titles(**query):
        return sorted(i.title for i in admin_client.get(url, query).context["cl"].result_list)

    assert titles(release="1.0") == ["in 1.0"]
    assert titles(environment="prod") == ["in 1.0"]
    assert titles(level__exact="warning") == ["in 1.0"]
    assert titles(status__exact="resolved") == ["old"]


def test_stream_query_count_does_not_grow_with_issues(admin_client, django_assert_max_num_queries):
    project = ProjectFactory()
    for n in range(3):
        store_event(project, message=f"issue {n}", release="1.0")
    url = reverse(STREAM)
    with django_assert_max_num_queries(15) as few:
        admin_client.get(url)
    for n in range(40):
        store_event(project, message=f"more {n}", release="1.0")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = admin_client.get(url)
    assert len(response.context["cl"].result_list) == 43


def test_issue_page_shows_the_latest_events_trace_context_locals_and_in_app_frames(admin_client):
    project = ProjectFactory()
    store_event(
        project,
        **crash(
            tags={"browser": "Firefox"},
            user={"id": "u1"},
            breadcrumbs={"values": [{"category": "http", "message": "GET /cart"}]},
            request={"url": "https://shop.example/cart", "method": "POST"},
        ),
    )
    issue = store_event(project, **crash(tags={"browser": "Chrome"}, user={"id": "u2"}))
    html = admin_client.get(reverse("admin:monitoring_errorissue_change", args=[issue.pk])).content.decode()
    assert "KeyError: &#x27;total&#x27;" in html
    assert "<strong>    return order[&#x27;total&#x27;]</strong>" in html
    assert 'class="frame in-app"' in html and html.count('class="frame"') == 1
    assert "{&#x27;id&#x27;: 7}" in html  # a local
    assert "browser" in html and "Chrome (1)" in html and "Firefox (1)" in html
    assert "u2" in html  # the latest event's user


def test_actions_resolve_ignore_and_merge(admin_client):
    project = ProjectFactory()
    a, b = store_event(project, message="A"), store_event(project, message="B")
    store_event(project, message="A")
    url = reverse(STREAM)
    admin_client.post(url, {"action": "resolve", "_selected_action": [a.pk]})
    a.refresh_from_db()
    assert a.status == ErrorIssue.Status.RESOLVED
    admin_client.post(url, {"action": "ignore", "_selected_action": [b.pk]})
    b.refresh_from_db()
    assert b.status == ErrorIssue.Status.IGNORED
    admin_client.post(url, {"action": "merge", "_selected_action": [a.pk, b.pk]})
    a.refresh_from_db()
    b.refresh_from_db()
    assert b.merged_into == a and a.event_count == 3
    admin_client.post(url, {"action": "unmerge", "_selected_action": [b.pk]})
    b.refresh_from_db()
    assert b.merged_into is None and b.event_count == 1


def test_snooze_actions_ignore_until_a_time_or_more_events(admin_client):
    project = ProjectFactory()
    timed, counted = store_event(project, message="A"), store_event(project, message="B")
    url = reverse(STREAM)
    before = timezone.now()
    admin_client.post(url, {"action": "snooze_1h", "_selected_action": [timed.pk]})
    admin_client.post(url, {"action": "snooze_100_events", "_selected_action": [counted.pk]})
    timed.refresh_from_db()
    counted.refresh_from_db()
    assert timed.status == ErrorIssue.Status.IGNORED
    assert timedelta(minutes=59) < timed.snooze_until - before <= timedelta(hours=1, seconds=5)
    assert counted.status == ErrorIssue.Status.IGNORED and counted.snooze_event_count == 100
    assert counted.snooze_count_base == counted.event_count
