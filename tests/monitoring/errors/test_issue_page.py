"""The issue page as a Sentry user expects it: buttons that act, a way between events,
the tag breakdown, sparklines, first and last seen; and the stream's sparkline column."""

import json
import re
import uuid
from collections import Counter
from datetime import UTC, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from monitoring.errors.partitions import events as event_partitions
from monitoring.errors.selectors import error_issues_sparklines
from monitoring.errors.services.hourly import error_issue_hours_rebuild
from monitoring.errors.services.issues import error_issue_fold, error_issue_merge
from monitoring.models import ErrorEvent, ErrorIssue, ErrorIssueActivity, ErrorIssueHourly, ErrorIssueTally
from tests.factories import ProjectFactory
from tests.monitoring.errors.factories import store_event

pytestmark = pytest.mark.django_db
STREAM = "admin:monitoring_errorissue_changelist"


def page(issue_id: int) -> str:
    return reverse("admin:monitoring_errorissue_change", args=[issue_id])


def act(issue_id: int) -> str:
    return reverse("admin:monitoring_errorissue_act", args=[issue_id])


def test_the_resolve_button_resolves_and_the_timeline_names_who_pressed_it(admin_client, admin_user):
    issue = store_event(ProjectFactory(), message="boom")
    html = admin_client.get(page(issue.pk)).content.decode()
    assert f'action="{act(issue.pk)}"' in html and 'value="resolve"' in html

    response = admin_client.post(act(issue.pk), {"action": "resolve"})

    assert response.status_code == 302 and response["Location"] == page(issue.pk)
    issue.refresh_from_db()
    assert issue.status == ErrorIssue.Status.RESOLVED
    entry = ErrorIssueActivity.objects.get(issue=issue)
    assert entry.action == ErrorIssueActivity.Action.RESOLVED and entry.actor == admin_user
    timeline = admin_client.get(page(issue.pk)).content.decode()
    assert re.search(rf'data-action="resolved"><td>[^<]*</td><td>{admin_user.username}</td>', timeline)


def test_resolve_in_next_release_names_the_release_it_was_seen_in(admin_client):
    issue = store_event(ProjectFactory(), message="boom", release="shop@1.4")
    admin_client.post(act(issue.pk), {"action": "resolve_next_release"})
    issue.refresh_from_db()
    assert issue.status == ErrorIssue.Status.RESOLVED_NEXT_RELEASE and issue.resolved_in_release == "shop@1.4"


def test_ignore_and_both_snoozes_from_the_page(admin_client, admin_user):
    project = ProjectFactory()
    ignored, timed, counted = (store_event(project, message=m) for m in ("A", "B", "C"))
    before = timezone.now()
    admin_client.post(act(ignored.pk), {"action": "ignore"})
    admin_client.post(act(timed.pk), {"action": "snooze_for", "for": "24h"})
    admin_client.post(act(counted.pk), {"action": "snooze_events", "events": "25"})
    for issue in (ignored, timed, counted):
        issue.refresh_from_db()
        assert issue.status == ErrorIssue.Status.IGNORED
    assert ignored.snooze_until is None and ignored.snooze_event_count is None
    assert timedelta(hours=23, minutes=59) < timed.snooze_until - before <= timedelta(hours=24, seconds=5)
    assert counted.snooze_event_count == 25
    snoozes = ErrorIssueActivity.objects.filter(action=ErrorIssueActivity.Action.SNOOZED)
    assert {a.issue_id for a in snoozes} == {timed.pk, counted.pk}
    assert {a.actor for a in snoozes} == {admin_user}


def test_a_snooze_for_no_events_or_an_unknown_action_changes_nothing(admin_client):
    issue = store_event(ProjectFactory(), message="boom")
    for bad in (
        {"action": "snooze_events", "events": "0"},
        {"action": "snooze_events", "events": "x"},
        {"action": "delete"},
    ):
        assert admin_client.post(act(issue.pk), bad).status_code == 302
    issue.refresh_from_db()
    assert issue.status == ErrorIssue.Status.UNRESOLVED
    assert not ErrorIssueActivity.objects.filter(issue=issue).exists()


def test_page_actions_need_post_and_the_change_permission(client, admin_client):
    issue = store_event(ProjectFactory(), message="boom")
    assert admin_client.get(act(issue.pk)).status_code == 405
    viewer = get_user_model().objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_errorissue"))
    client.force_login(viewer)
    html = client.get(page(issue.pk)).content.decode()
    assert 'value="resolve"' not in html  # no buttons for someone who may not use them
    assert client.post(act(issue.pk), {"action": "resolve"}).status_code == 403
    issue.refresh_from_db()
    assert issue.status == ErrorIssue.Status.UNRESOLVED


def test_the_page_needs_a_csrf_token_to_act(admin_user):
    from django.test import Client

    issue = store_event(ProjectFactory(), message="boom")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)
    assert strict.post(act(issue.pk), {"action": "resolve"}).status_code == 403


def _nav(html: str) -> dict[str, str | None]:
    """Where each of the four links goes (an event id), or None where it is not a link."""
    links = {label: event for event, label in re.findall(r'href="[^"]*\?event=([0-9a-f]{32})" data-nav="(\w+)"', html)}
    return {label: links.get(label) for label in ("oldest", "older", "newer", "latest")}


def test_older_and_newer_move_between_events_and_the_ends_stop(admin_client):
    project = ProjectFactory()
    now = timezone.now()
    ids = []
    for n in range(4):
        event_id = f"{n + 1:032x}"
        issue = store_event(
            project, message="boom", event_id=event_id, received_at=now - timedelta(minutes=10 - n), tags={"n": str(n)}
        )
        ids.append(event_id)

    html = admin_client.get(page(issue.pk)).content.decode()
    assert f'<code id="event-id">{ids[3]}</code>' in html  # the latest by default
    assert _nav(html) == {"oldest": ids[0], "older": ids[2], "newer": None, "latest": None}

    html = admin_client.get(page(issue.pk), {"event": ids[2]}).content.decode()
    assert f'<code id="event-id">{ids[2]}</code>' in html
    assert _nav(html) == {"oldest": ids[0], "older": ids[1], "newer": ids[3], "latest": ids[3]}

    html = admin_client.get(page(issue.pk), {"event": ids[0]}).content.decode()
    assert _nav(html) == {"oldest": None, "older": None, "newer": ids[1], "latest": ids[3]}

    # An id that is not this issue's shows the latest, not an error.
    html = admin_client.get(page(issue.pk), {"event": "f" * 32}).content.decode()
    assert f'<code id="event-id">{ids[3]}</code>' in html


def test_the_page_shows_the_chosen_events_details(admin_client):
    project = ProjectFactory()
    first = "a" * 32
    store_event(
        project,
        message="boom",
        event_id=first,
        user={"id": "early-user"},
        received_at=timezone.now() - timedelta(minutes=5),
    )
    issue = store_event(project, message="boom", user={"id": "late-user"})
    html = admin_client.get(page(issue.pk), {"event": first}).content.decode()
    # The user section reads the event shown; the tag breakdown lists both users.
    assert "&quot;early-user&quot;" in html and "&quot;late-user&quot;" not in html


def test_the_page_query_count_does_not_grow_with_events(admin_client, django_assert_max_num_queries):
    project = ProjectFactory()
    # Two events to start: with one, there is no "oldest" to look up, and the count would
    # rise by that one query however many events came after.
    store_event(project, message="boom", release="0.9")
    issue = store_event(project, message="boom", release="1.0")
    # Each read-only section reads once, however often unfold asks for its contents.
    with django_assert_max_num_queries(22) as few:
        admin_client.get(page(issue.pk))
    for n in range(30):
        store_event(project, message="boom", release=f"1.{n}", tags={"browser": f"b{n}"}, user={"id": f"u{n}"})
    with django_assert_max_num_queries(len(few.captured_queries)):
        admin_client.get(page(issue.pk))


def _breakdown(html: str) -> dict[str, list[tuple[str, int]]]:
    out: dict[str, list[tuple[str, int]]] = {}
    for key, body in re.findall(
        r'data-tag="(\w+)">(.*?)</div>\s*(?=<div class="tag-breakdown"|</div>\s*</div>)', html, re.S
    ):
        out[key] = [(v, int(n)) for v, n in re.findall(r'title="([^"]*): (\d+) of', body)]
    return out


def test_the_tag_breakdown_counts_top_values(admin_client):
    project = ProjectFactory()
    chrome = {"browser": {"name": "Chrome", "version": "120"}, "os": {"name": "Linux"}}
    firefox = {"browser": {"name": "Firefox", "version": "121"}, "os": {"name": "Windows", "version": "11"}}
    for contexts, release, user, url in (
        (chrome, "1.0", "ann", "https://shop.example/cart?id=1"),
        (chrome, "1.0", "bob", "https://shop.example/cart?id=2"),
        (firefox, "1.1", "ann", "https://shop.example/pay"),
    ):
        issue = store_event(
            project,
            message="boom",
            release=release,
            environment="prod",
            contexts=contexts,
            user={"id": user},
            request={"url": url, "method": "GET"},
        )
    breakdown = _breakdown(admin_client.get(page(issue.pk)).content.decode())
    assert breakdown["release"] == [("1.0", 2), ("1.1", 1)]
    assert breakdown["environment"] == [("prod", 3)]
    assert breakdown["browser"] == [("Chrome 120", 2), ("Firefox 121", 1)]
    assert breakdown["os"] == [("Linux", 2), ("Windows 11", 1)]
    # The query string is dropped, so one page counts once however it was asked for.
    assert breakdown["url"] == [("https://shop.example/cart", 2), ("https://shop.example/pay", 1)]
    assert breakdown["user"] == [("ann", 2), ("bob", 1)]


def test_first_and_last_seen_carry_their_releases(admin_client):
    project = ProjectFactory()
    now = timezone.now()
    store_event(project, message="boom", release="shop@1.0", received_at=now - timedelta(hours=3))
    issue = store_event(project, message="boom", release="shop@1.2", received_at=now - timedelta(minutes=1))
    html = admin_client.get(page(issue.pk)).content.decode()
    seen = html[html.index('id="issue-seen"') :]
    assert re.search(r"First seen</dt>\s*<dd[^>]*>3\xa0hours ago, in <a [^>]*><code>shop@1.0</code></a>", seen)
    assert re.search(r"Last seen</dt>\s*<dd[^>]*>1\xa0minute ago, in <a [^>]*><code>shop@1.2</code></a>", seen)


def test_sparklines_hold_a_point_per_bucket_and_count_the_events():
    project = ProjectFactory()
    now = timezone.now()
    store_event(project, message="boom", received_at=now - timedelta(days=3))
    store_event(project, message="boom", received_at=now - timedelta(hours=2))
    issue = store_event(project, message="boom", received_at=now)
    quiet = store_event(project, message="quiet", received_at=now - timedelta(days=20))
    spark = error_issues_sparklines([issue.pk, quiet.pk], now=now)
    assert len(spark[issue.pk].day.points) == 24 and spark[issue.pk].day.total == 2
    assert spark[issue.pk].day.points[-1][1] == 1  # this hour
    assert len(spark[issue.pk].fortnight.points) == 14 and spark[issue.pk].fortnight.total == 3
    assert spark[quiet.pk].day.total == 0 and spark[quiet.pk].fortnight.total == 0


def _events_per_hour(issue) -> Counter:
    hours = ErrorEvent.objects.filter(issue=issue).values_list("timestamp", flat=True)
    return Counter(t.astimezone(UTC).replace(minute=0, second=0, microsecond=0) for t in hours)


def _sparkline_hours(issue, now) -> Counter:
    return Counter({h: n for h, n in error_issues_sparklines([issue.pk], now=now)[issue.pk].day.points if n})


def test_sparklines_count_events_whether_their_tallies_are_folded_or_not(settings):
    settings.ERRORS_FOLD_INTERVAL_SECONDS = 3600  # ingest leaves the tallies pending
    project = ProjectFactory()
    now = timezone.now()
    for ago in (0, 1, 1, 5, 30, 30, 30):
        issue = store_event(project, message="boom", received_at=now - timedelta(minutes=ago * 20))
    pending = _sparkline_hours(issue, now)
    assert pending == _events_per_hour(issue) and pending.total() == 7

    error_issue_fold(issue_id=issue.pk, wait=True)

    assert not ErrorIssueTally.objects.filter(issue=issue).exists()
    assert _sparkline_hours(issue, now) == pending
    assert ErrorIssueHourly.objects.filter(issue=issue).aggregate(n=Sum("count"))["n"] == 7


def test_merged_issues_sparklines_follow_their_events():
    project = ProjectFactory()
    now = timezone.now()
    kept = store_event(project, message="kept", received_at=now - timedelta(hours=2))
    gone = store_event(project, message="gone", received_at=now - timedelta(hours=3))
    store_event(project, message="gone", received_at=now)

    error_issue_merge(target=kept, sources=[gone], actor=None)

    spark = error_issues_sparklines([kept.pk, gone.pk], now=now)
    assert spark[kept.pk].day.total == 3 and spark[kept.pk].fortnight.total == 3
    assert spark[gone.pk].day.total == 0 and spark[gone.pk].fortnight.total == 0


def test_rebuilding_the_hours_counts_events_stored_without_tallies():
    """What the migration does for events stored before the hourly counts existed."""
    project = ProjectFactory()
    now = timezone.now()
    issue = store_event(project, message="boom", received_at=now - timedelta(days=2))
    event_partitions.ensure({(now - timedelta(hours=4)).date()})
    ErrorEvent.objects.create(
        project=project, issue=issue, event_id=uuid.uuid4(), grouping_hash=issue.grouping_hash,
        timestamp=now - timedelta(hours=4), received_at=now, payload={},
    )  # fmt: skip

    error_issue_hours_rebuild()

    four_hours_ago = (now - timedelta(hours=4)).astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    assert _sparkline_hours(issue, now) == Counter({four_hours_ago: 1})  # the other is two days old
    assert error_issues_sparklines([issue.pk], now=now)[issue.pk].fortnight.total == 2


def _chart(html: str) -> dict:
    spec = re.search(r'data-lookout-chart="([^"]+)"', html)
    assert spec, "no chart drawn"
    return json.loads(spec.group(1).replace("&quot;", '"').replace("&amp;", "&"))


def test_the_page_draws_both_event_charts_with_axes_and_units(admin_client):
    issue = store_event(ProjectFactory(), message="boom")
    html = admin_client.get(page(issue.pk)).content.decode()
    for box, points, unit in (("issue-sparkline-24h", 24, "hour"), ("issue-sparkline-14d", 14, "day")):
        chart = _chart(html[html.index(f'id="{box}"') :])
        [series] = chart["series"]
        assert len(series["points"]) == points and sum(v for _, v in series["points"]) == 1
        assert series["label"] == f"events per {unit}" and chart["y"]["label"] == f"Events per {unit}"
        assert chart["x"]["kind"] == "time" and chart["x"]["min"] <= series["points"][-1][0] < chart["x"]["max"]


def test_the_stream_shows_both_sparklines_or_says_there_were_no_events(admin_client):
    project = ProjectFactory()
    store_event(project, message="old", received_at=timezone.now() - timedelta(days=2))
    store_event(project, message="busy")
    html = admin_client.get(reverse(STREAM)).content.decode()
    # Two windows a row: "old" (two days back) has a 14-day line but nothing in the last 24 h.
    assert html.count("data-lookout-chart=") == 3
    assert html.count("data-chart-empty>none in 24 h") == 1
    assert html.count("data-chart-empty>none in 14 d") == 0


def test_the_stream_reads_all_sparklines_in_two_queries_whatever_the_number_of_issues(
    admin_client, django_assert_max_num_queries
):
    project = ProjectFactory()
    for n in range(3):
        store_event(project, message=f"issue {n}")
    url = reverse(STREAM)
    with django_assert_max_num_queries(15) as few:
        admin_client.get(url)
    # By hour over 24 h and by day over 14 d, from the hourly counts: never the events.
    assert not [q for q in few.captured_queries if "monitoring_errorevent" in q["sql"]]
    assert len([q for q in few.captured_queries if "monitoring_errorissuehourly" in q["sql"]]) == 2
    for n in range(40):
        store_event(project, message=f"more {n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = admin_client.get(url)
    assert response.content.decode().count("data-lookout-chart=") == 2 * 43
