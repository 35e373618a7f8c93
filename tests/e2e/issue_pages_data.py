"""Realistic data for the issue stream, an issue page and the performance view: used by the
browser test and by anyone who wants to look at the pages (`manage.py shell -c
"from tests.e2e.issue_pages_data import populate; populate()"`)."""

import uuid
from datetime import timedelta

from django.utils import timezone

from monitoring.errors.services.issues import error_issues_fold_pending
from monitoring.errors.transactions import transaction_points
from monitoring.models import ErrorIssue, Project
from monitoring.projects.services.projects import project_create
from monitoring.telemetry.services.ingest import telemetry_ingest
from monitoring.telemetry.services.rollups import rollups_build
from tests.monitoring.errors.factories import store_event

# (name, typical ms, every how many fails, how many a day)
TRANSACTIONS = (
    ("POST /checkout", 180, 12, 240),
    ("GET /cart", 45, 0, 480),
    ("GET /products/<slug>", 90, 50, 360),
    ("POST /api/payments/authorize", 620, 8, 96),
    ("celery: orders.send_confirmation_email", 1200, 20, 48),
)


def populate_issues(project: Project) -> ErrorIssue:
    """One hot issue with 30 events over 11 days (releases, browsers, users, URLs), and twelve
    quieter ones; returns the hot one."""
    now = timezone.now()
    contexts = {"browser": {"name": "Chrome", "version": "120"}, "os": {"name": "Linux"}}
    issue = None
    for n in range(30):
        issue = store_event(
            project,
            message="KeyError: 'total' in a long title that keeps going so the stream has to cut it somewhere sensible",
            release=f"shop@1.{n % 3}",
            environment="production",
            contexts={**contexts, "trace": {"trace_id": uuid.uuid4().hex, "span_id": uuid.uuid4().hex[:16]}},
            transaction="POST /checkout",
            user={"id": f"user-{n % 7}"},
            request={"url": f"https://shop.example/cart/{n % 4}", "method": "POST"},
            received_at=now - timedelta(hours=n * 9),
        )
    for n in range(12):
        store_event(
            project, message=f"TimeoutError talking to payments gateway {n}", received_at=now - timedelta(days=n)
        )
    error_issues_fold_pending()  # the counters, as the sweep would have them by now
    assert issue is not None
    return issue


def populate_transactions(project: Project, *, hours: int = 24) -> int:
    """Transactions spread over the last `hours`, as ingest turns them into points, then rolled
    up as the rollup task does. Returns how many were sent."""
    now = timezone.now()
    points = []
    sent = 0
    for name, typical, fails_every, per_day in TRANSACTIONS:
        per_hour = max(1, per_day // 24)
        for hour in range(hours):
            for k in range(per_hour):
                end = now - timedelta(hours=hour, minutes=(k * 7) % 60, seconds=k)
                # Slower in the evening rush, and a long tail every tenth.
                ms = typical * (1.6 if hour % 24 in (5, 6, 7) else 1.0) * (3 if k % 10 == 9 else 1) + k
                failed = bool(fails_every) and (hour * per_hour + k) % fails_every == 0
                payload = {
                    "type": "transaction",
                    "event_id": uuid.uuid4().hex,
                    "transaction": name,
                    "start_timestamp": (end - timedelta(milliseconds=ms)).timestamp(),
                    "timestamp": end.timestamp(),
                    "contexts": {"trace": {"status": "internal_error" if failed else "ok"}},
                }
                points += transaction_points(payload, received_at=now, max_lateness=timedelta(days=30))
                sent += 1
    telemetry_ingest(project=project, points=points)
    rollups_build(max_minutes=60 * 24 * 8)
    return sent


def populate() -> ErrorIssue:
    project = project_create(name="Checkout service").project
    populate_transactions(project)
    return populate_issues(project)
