"""Create and change targets from plain data: one validated path for the API and config import."""

from django.core.exceptions import ValidationError
from django.db import transaction

from monitoring.heartbeats.models import HEARTBEAT_FIELDS
from monitoring.models import Heartbeat, Status, Tag, Target

# What the engine keeps about a target's present state: shown, never set by a person.
STATUS_FIELDS = (
    "status",
    "status_changed_at",
    "last_checked_at",
    "last_latency_ms",
    "last_error",
    "cert_expires_at",
)
# What a person configures, by the kinds each applies to; status and history are the engine's.
# The admin's form groups its fields the same way.
SCHEDULE_FIELDS = (
    "interval_seconds",
    "timeout_seconds",
    "regions",
    "quorum",
    "down_after_failures",
    "failure_window",
    "up_after_successes",
)
HTTP_FIELDS = (
    "url",
    "method",
    "headers",
    "body",
    "auth_kind",
    "auth_username",
    "auth_secret_env",
    "accepted_statuses",
    "follow_redirects",
    "max_redirects",
    "verify_tls",
    "keyword",
    "keyword_mode",
    "json_path",
    "json_expected",
    "degraded_after_ms",
)
SOCKET_FIELDS = (
    "host",
    "port",
    "tls_warn_days",
    "dns_record_type",
    "dns_expected",
    "dns_resolver",
    "dns_resolver_port",
)
TARGET_FIELDS = ("name", "kind", "paused", *SCHEDULE_FIELDS, *HTTP_FIELDS, *SOCKET_FIELDS)


class TargetConfigError(ValueError):
    """Field errors, keyed by field name ('heartbeat.cron' for a heartbeat's own fields)."""

    def __init__(self, fields: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in fields.items()))
        self.fields = fields


@transaction.atomic
def target_save(*, target: Target, tags: list[str] | None = None, heartbeat: dict | None = None) -> Target:
    """Validate and save `target` (new or changed), its tags, and a heartbeat's schedule.

    Nothing is written unless everything is valid. Pausing and resuming go through
    targets_pause/targets_resume instead, so they record their flip.
    """
    errors: dict[str, list[str]] = {}
    try:
        target.full_clean()
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if tags is not None:
        bad = [t for t in tags if not isinstance(t, str) or not t.strip() or len(t) > 50]
        if bad:
            errors["tags"] = [f"{bad[0]!r} is not a tag: 1-50 characters."]
    schedule = None
    if target.kind == Target.Kind.HEARTBEAT:
        schedule = (Heartbeat.objects.filter(target_id=target.pk).first() if target.pk else None) or Heartbeat(
            target=target
        )
        for name, value in (heartbeat or {}).items():
            if name not in HEARTBEAT_FIELDS:
                errors[f"heartbeat.{name}"] = ["unknown field"]
            else:
                setattr(schedule, name, value)
        try:
            schedule.full_clean(exclude=["target"])
        except ValidationError as exc:
            errors.update({f"heartbeat.{k}": v for k, v in exc.message_dict.items()})
    elif heartbeat:
        errors["heartbeat"] = ["only a heartbeat target has a heartbeat schedule"]
    if errors:
        raise TargetConfigError(errors)
    if target.pk is None and target.paused:
        target.status = Status.PAUSED
    target.save()
    if tags is not None:
        target.tags.set([Tag.objects.get_or_create(name=t.strip())[0] for t in tags])
    if schedule is not None:
        schedule.target = target
        schedule.save()
    return target


def target_as_config(target: Target) -> dict:
    """A target as plain data that target_save (through import or the API) takes back unchanged."""
    data = {name: getattr(target, name) for name in TARGET_FIELDS}
    data["tags"] = sorted(t.name for t in target.tags.all())
    if target.kind == Target.Kind.HEARTBEAT and hasattr(target, "heartbeat"):
        data["heartbeat"] = {name: getattr(target.heartbeat, name) for name in HEARTBEAT_FIELDS}
    return data
