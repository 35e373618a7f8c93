"""What happens to each item of an authenticated envelope (or a legacy store body)."""

import json
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings

from monitoring.errors.envelope import Envelope, Item
from monitoring.errors.events import InvalidEvent, event_prepare, storable
from monitoring.errors.privacy import event_privatise
from monitoring.errors.ratelimit import category_wait
from monitoring.errors.security import Reports
from monitoring.errors.services.attachments import MAX_ATTACHMENT_BYTES, AttachmentIn, error_attachments_store
from monitoring.errors.services.events import error_event_store
from monitoring.errors.services.outcomes import envelope_outcomes_record
from monitoring.errors.services.release_health import release_health_record
from monitoring.errors.services.user_reports import error_user_report_store
from monitoring.errors.sessions import session_counts
from monitoring.errors.symbolication import event_symbolicate
from monitoring.errors.transactions import SpanBatch, span_count, span_points, transaction_points
from monitoring.heartbeats.checkin_items import check_in_parse
from monitoring.heartbeats.services.checkins import UnknownMonitor, monitor_check_in
from monitoring.models import Project
from monitoring.telemetry.payloads import PayloadError
from monitoring.telemetry.services.ingest import CardinalityExceeded, telemetry_ingest
from monitoring.traces.services import traces_store

# Item types the protocol defines that this portal does not store yet: counted, not kept.
NOT_STORED = frozenset(
    {
        "profile",
        "profile_chunk",
        "replay_event",
        "replay_recording",
        "replay_video",
        "statsd",
        "metric_buckets",
        "otel_log",
        "log",
    }
)
# Outcome categories, named as sentry-sdk names them in its client reports.
CATEGORY = {"event": "error", "check_in": "monitor", "sessions": "session"}


class InvalidBody(ValueError):
    """A legacy store body that holds no usable event."""


@dataclass
class IngestResult:
    event_id: str
    stored: int = 0
    dropped: Counter = field(default_factory=Counter)  # (category, reason) -> items
    limited: dict[str, int] = field(default_factory=dict)  # category over its budget -> seconds to wait


def _privatised(project: Project, event: dict, client_ip: str) -> dict:
    return event_privatise(
        event,
        scrub_data=project.errors_scrub_data,
        extra_keys=[k.strip() for k in project.errors_scrub_extra_keys.splitlines() if k.strip()],
        keep_client_ip=project.errors_store_client_ip,
        client_ip=client_ip,
    )


def _store_event(
    project: Project, payload: bytes, *, envelope_event_id: str | None, client_ip: str, received_at: datetime
) -> str:
    """Store one event; its id. Raises InvalidEvent (any ValueError) for a payload that is not one."""
    if len(payload) > settings.ERRORS_MAX_EVENT_BYTES:
        raise OverflowError("event too large")
    raw = json.loads(payload)
    if not isinstance(raw, dict):
        raise InvalidEvent("an event must be a JSON object")
    return _store_event_object(
        project, raw, envelope_event_id=envelope_event_id, client_ip=client_ip, received_at=received_at
    )


def _store_event_object(
    project: Project, raw: dict, *, envelope_event_id: str | None, client_ip: str, received_at: datetime
) -> str:
    # Before scrubbing, so the original source lines a map brings are scrubbed too, and
    # before grouping, so issues group by the original frames.
    raw = event_symbolicate(project=project, event=raw)
    event = event_prepare(_privatised(project, raw, client_ip), received_at=received_at, event_id=envelope_event_id)
    error_event_store(project=project, event=event, received_at=received_at)
    return event.event_id.hex


def _client_report(item: Item, counts: Counter) -> None:
    report = item.json()
    discarded = report.get("discarded_events") if isinstance(report, dict) else None
    if not isinstance(discarded, list):
        raise InvalidEvent("discarded_events must be a list")
    for entry in discarded:
        if not isinstance(entry, dict):
            continue
        quantity = entry.get("quantity")
        if isinstance(quantity, int) and not isinstance(quantity, bool) and quantity > 0:
            reason, category = str(entry.get("reason", ""))[:64], str(entry.get("category", ""))[:32]
            counts[(category, reason)] += quantity


def _text(value: object, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _user_report(project: Project, item: Item, received_at: datetime) -> None:
    """A user_report item ({event_id, name, email, comments}), or a feedback event whose
    contexts.feedback holds the same under other names (associated_event_id, message, contact_email)."""
    report = item.json()
    if not isinstance(report, dict):
        raise InvalidEvent("a user report must be a JSON object")
    if item.type == "feedback":
        contexts = report.get("contexts")
        feedback = contexts.get("feedback") if isinstance(contexts, dict) else None
        if not isinstance(feedback, dict):
            raise InvalidEvent("feedback needs contexts.feedback")
        event_id = feedback.get("associated_event_id") or report.get("event_id")
        name, email, comments = feedback.get("name"), feedback.get("contact_email"), feedback.get("message")
    else:
        event_id, name, email, comments = (report.get(k) for k in ("event_id", "name", "email", "comments"))
    if not isinstance(event_id, str) or not _text(comments, 1):
        raise InvalidEvent("a user report needs an event_id and comments")
    error_user_report_store(
        project=project,
        event_id=uuid.UUID(event_id),
        name=storable(_text(name, 128)),
        email=storable(_text(email, 256)),
        comments=storable(_text(comments, 10_000)),
        received_at=received_at,
    )


def envelope_ingest(
    *, project: Project, envelope: Envelope, client_ip: str, received_at: datetime, key_id: int | None = None
) -> IngestResult:
    header_id = envelope.headers.get("event_id")
    header_id = header_id if isinstance(header_id, str) else None
    result = IngestResult(event_id=header_id or "")
    reported: Counter = Counter()
    sessions = []
    points = []
    span_batches: list[SpanBatch] = []
    traced: list[Item] = []  # transaction and span items within budget, kept as traces
    attachments: list[AttachmentIn] = []
    max_lateness = timedelta(seconds=settings.TELEMETRY_MAX_LATENESS_SECONDS)
    for item in envelope.items:
        category = CATEGORY.get(item.type, item.type)
        if key_id is not None and item.type != "client_report" and _over_budget(result, key_id, category):
            # A span item holds many spans, and Sentry's quotas count spans, not items.
            result.dropped[(category, "ratelimit_backoff")] += span_count(item.headers) if item.type == "span" else 1
            continue
        if item.type == "event":
            try:
                event_id = _store_event(
                    project, item.payload, envelope_event_id=header_id, client_ip=client_ip, received_at=received_at
                )
            except OverflowError:
                result.dropped[(category, "too_large")] += 1
            except (ValueError, RecursionError):  # not JSON, not UTF-8, nested too deep, not an event
                result.dropped[(category, "invalid")] += 1
            else:
                result.stored += 1
                result.event_id = result.event_id or event_id
        elif item.type == "client_report":
            try:
                _client_report(item, reported)
            except (ValueError, RecursionError):
                result.dropped[(category, "invalid")] += 1
        elif item.type in ("user_report", "feedback"):
            try:
                _user_report(project, item, received_at)
            except (ValueError, RecursionError):
                result.dropped[(category, "invalid")] += 1
            else:
                result.stored += 1
        elif item.type in ("session", "sessions"):
            try:
                sessions.append(session_counts(item.type, item.json()))
            except (ValueError, RecursionError):
                result.dropped[(category, "invalid")] += 1
        elif item.type == "check_in":
            try:
                monitor_check_in(project=project, check_in=check_in_parse(item.json()), received_at=received_at)
            except UnknownMonitor:
                result.dropped[(category, "unknown_monitor")] += 1
            except (ValueError, RecursionError):  # TargetConfigError is one
                result.dropped[(category, "invalid")] += 1
            else:
                result.stored += 1
        elif item.type == "transaction":
            traced.append(item)
            try:
                points.extend(transaction_points(item.json(), received_at=received_at, max_lateness=max_lateness))
            except (ValueError, RecursionError):
                result.dropped[(category, "invalid")] += 1
        elif item.type == "span":
            traced.append(item)
            try:
                batch = span_points(item.json(), received_at=received_at, max_lateness=max_lateness)
            except (ValueError, RecursionError):
                result.dropped[(category, "invalid")] += span_count(item.headers)
            else:
                span_batches.append(batch)
                if batch.invalid:
                    result.dropped[(category, "invalid")] += batch.invalid
        elif item.type == "attachment":
            _attachment(item, attachments, result)
        elif item.type in NOT_STORED:
            result.dropped[(category, "not_stored")] += 1
        else:
            # Skipped, as the protocol asks (newer SDKs send newer items), and counted under
            # one category: a type is the client's word, and each name would be a row.
            result.dropped[("unknown", "not_stored")] += 1
    if points:
        refused = _points_ingest(project, points)
        if refused:
            result.dropped[("transaction", refused)] += len(points) // 2
        else:
            result.stored += len(points) // 2
    _spans_ingest(project, span_batches, result)
    if traced:
        traces_store(project=project, items=traced, received_at=received_at)
    if attachments:
        _attachments_store(project, attachments, header_id or result.event_id, result, received_at)
    if sessions:
        release_health_record(project=project, day=received_at.date(), batches=sessions)
    if envelope.broken:
        result.dropped[("default", "invalid")] += 1
    envelope_outcomes_record(project=project, day=received_at.date(), dropped=result.dropped, reported=reported)
    result.event_id = _id_hex(result.event_id)
    return result


def _attachment(item: Item, attachments: list[AttachmentIn], result: IngestResult) -> None:
    if len(item.payload) > MAX_ATTACHMENT_BYTES:
        result.dropped[("attachment", "too_large")] += 1
        return
    headers = item.headers
    attachments.append(
        AttachmentIn(
            name=_text(headers.get("filename"), 255) or "attachment",
            content_type=_text(headers.get("content_type"), 100),
            attachment_type=_text(headers.get("attachment_type"), 64) or "event.attachment",
            data=item.payload,
        )
    )


def _attachments_store(
    project: Project, attachments: list[AttachmentIn], event_id: str, result: IngestResult, received_at: datetime
) -> None:
    """Attachments belong to the envelope's event (its header's event_id, else the event
    item's): with neither there is nothing to attach them to."""
    try:
        target = uuid.UUID(event_id)
    except ValueError:
        result.dropped[("attachment", "invalid")] += len(attachments)
        return
    result.stored += error_attachments_store(
        project=project, event_id=target, attachments=attachments, received_at=received_at
    )


def _points_ingest(project: Project, points: list) -> str:
    """Store transaction points; "" when stored, else the outcome's reason."""
    try:
        telemetry_ingest(project=project, points=points)
    except PayloadError as exc:  # over the project's series limits, or a name taken by another kind
        return "cardinality" if isinstance(exc, CardinalityExceeded) else "invalid"
    return ""


def _spans_ingest(project: Project, batches: list[SpanBatch], result: IngestResult) -> None:
    """Store the segment spans' points apart from transaction items' points, so a refusal is
    counted against the spans that made them. Every span is counted once: accepted (its
    segment stored, or a child span, which carries nothing to keep) or dropped with a reason."""
    points = [p for batch in batches for p in batch.points]
    refused = _points_ingest(project, points) if points else ""
    for batch in batches:
        if refused and batch.segments:
            # The item's transactions were not stored: its spans are lost with them.
            result.dropped[("span", refused)] += batch.accepted
        else:
            result.stored += batch.accepted


def _over_budget(result: IngestResult, key_id: int, category: str) -> bool:
    """Whether this item's category is out of budget; once it is, the rest of the envelope's
    items of that category are dropped without drawing more tokens."""
    if category in result.limited:
        return True
    wait = category_wait(key_id=key_id, category=category)
    if wait:
        result.limited[category] = wait
    return bool(wait)


def _id_hex(value: str) -> str:
    try:
        return uuid.UUID(value).hex
    except ValueError:
        return uuid.uuid4().hex


def security_reports_ingest(*, project: Project, reports: Reports, client_ip: str, received_at: datetime) -> str:
    """Store the reports of one security request as events (issues of category security);
    the first one's id, or "" when none was kept. Filtered reports are counted, not stored."""
    first = ""
    for event in reports.events:
        event_id = _store_event_object(
            project, event, envelope_event_id=None, client_ip=client_ip, received_at=received_at
        )
        first = first or event_id
    dropped = Counter({("security", "filtered"): reports.filtered, ("security", "not_stored"): reports.not_stored})
    if +dropped:
        envelope_outcomes_record(project=project, day=received_at.date(), dropped=+dropped)
    return first


def store_ingest(*, project: Project, body: bytes, client_ip: str, received_at: datetime) -> str:
    """The legacy store endpoint: the body is one event. Raises InvalidBody or OverflowError."""
    try:
        return _store_event(project, body, envelope_event_id=None, client_ip=client_ip, received_at=received_at)
    except OverflowError:
        envelope_outcomes_record(project=project, day=received_at.date(), dropped={("error", "too_large"): 1})
        raise
    except (ValueError, RecursionError) as exc:
        envelope_outcomes_record(project=project, day=received_at.date(), dropped={("error", "invalid"): 1})
        raise InvalidBody(str(exc) if isinstance(exc, InvalidEvent) else "body is not a JSON event") from exc
