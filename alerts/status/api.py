"""Atlassian Statuspage's public v2 JSON (what existing widgets and tools read), SVG badges and
the shields.io endpoint JSON. Plain views: public, read-only, no authentication or throttling
classes to run on each of many cached reads."""

import json
from datetime import datetime

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from alerts.status.badges import (
    STATUS_COLOURS,
    badge_svg,
    cert_colour,
    cert_days,
    cert_message,
    response_colour,
    shields_json,
    uptime_colour,
)
from alerts.status.bodies import body_response, cached_body
from alerts.status.selectors import BADGE_WINDOWS, SNAPSHOT_SECONDS, component_badge_facts, page_snapshot
from alerts.status.views import requested_page

COMPONENT_KEYS = ("id", "name", "status", "created_at", "updated_at", "position", "description", "group_id")


def _component(row: dict, page_id: str) -> dict:
    return {
        **{k: row[k] for k in COMPONENT_KEYS},
        "showcase": True,
        "start_date": row["created_at"][:10] if row["created_at"] else None,
        "page_id": page_id,
        "group": False,
        "only_show_if_degraded": False,
    }


def _group(row: dict, page_id: str) -> dict:
    return {
        "id": row["id"],
        "name": row["name"],
        "status": row["status"],
        "created_at": row["created_at"],
        "updated_at": row["created_at"],
        "position": row["position"],
        "description": None,
        "showcase": False,
        "start_date": None,
        "group_id": None,
        "page_id": page_id,
        "group": True,
        "only_show_if_degraded": False,
        "components": [c["id"] for c in row["components"]],
    }


def _public_incident(incident: dict) -> dict:
    drop = {"status_label"}
    return {
        **{k: v for k, v in incident.items() if k not in drop and k != "incident_updates"},
        "incident_updates": [
            {k: v for k, v in u.items() if k not in {"status_label", "display_label"}}
            for u in incident["incident_updates"]
        ],
    }


def _maintenance(item: dict) -> dict:
    return {k: v for k, v in item.items() if k != "when_label"}


def _documents(snapshot: dict) -> dict[str, dict]:
    page_id = snapshot["page"]["id"]
    page = {k: snapshot["page"][k] for k in ("id", "name", "url", "time_zone", "updated_at")}
    components = [_group(g, page_id) for g in snapshot["groups"]] + [
        _component(c, page_id) for c in snapshot["components"]
    ]
    incidents = [_public_incident(i) for i in snapshot["incidents"]]
    maintenances = [_maintenance(m) for m in snapshot["maintenances"]]
    return {
        "summary": {
            "page": page,
            "components": components,
            "incidents": [i for i in incidents if i["status"] != "resolved"],
            "scheduled_maintenances": [m for m in maintenances if m["status"] in ("scheduled", "in_progress")],
            "status": snapshot["status"],
        },
        "status": {"page": page, "status": snapshot["status"]},
        "components": {"page": page, "components": components},
        "incidents": {"page": page, "incidents": incidents},
        "unresolved": {"page": page, "incidents": [i for i in incidents if i["status"] != "resolved"]},
        "scheduled-maintenances": {"page": page, "scheduled_maintenances": maintenances},
    }


def _json(data: dict, status: int = 200) -> HttpResponse:
    return _public(JsonResponse(data, status=status))


def _public(response: HttpResponse) -> HttpResponse:
    # Widgets on other sites read these, as they read Statuspage's.
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = f"public, max-age={SNAPSHOT_SECONDS}"
    return response


@require_GET
def statuspage_json(request: HttpRequest, document: str, slug: str | None = None) -> HttpResponse:
    page = requested_page(request, slug)
    if page is None:
        return _json({"error": "No status page here."}, status=404)

    # The encoded document is kept under the snapshot's version, so a hit reads no snapshot
    # and encodes nothing. It lives only as long as the snapshot it came from has left, so
    # probe facts are no staler.
    def render() -> tuple[bytes, float]:
        snapshot = page_snapshot(page=page)
        age = (timezone.now() - datetime.fromisoformat(snapshot["generated_at"])).total_seconds()
        return json.dumps(_documents(snapshot)[document], cls=DjangoJSONEncoder).encode(), SNAPSHOT_SECONDS - age

    body = cached_body(f"status:json:{page.pk}:{page.content_version}:{document}", render)
    return _public(body_response(request, body, content_type="application/json"))


BADGE_KINDS = {"status": None, **{f"uptime-{w}": w for w in BADGE_WINDOWS}, "response": "24h", "certificate": None}


def _badge(request: HttpRequest, slug: str | None, component_id: int, kind: str) -> tuple[int, str, str, str]:
    """(HTTP status, label, message, colour) for one badge."""
    page = requested_page(request, slug)
    window = BADGE_KINDS.get(kind)
    facts = (
        component_badge_facts(page=page, component_id=component_id, window=window)
        if page is not None and kind in BADGE_KINDS
        else None
    )
    if facts is None:
        return 404, kind.replace("-", " ") if kind in BADGE_KINDS else "badge", "unknown", "grey"
    if kind == "status":
        return 200, facts.name, facts.status.replace("_", " "), STATUS_COLOURS[facts.status]
    if kind == "certificate":
        days = cert_days(facts.cert_expires_at, now=timezone.now())
        return 200, "certificate", cert_message(days), cert_colour(days)
    if kind == "response":
        message = f"{facts.p50_ms} ms" if facts.p50_ms is not None else "no data"
        return 200, "response time", message, response_colour(facts.p50_ms)
    pct = facts.uptime.get(window or "")
    message = f"{pct:.2f}%" if pct is not None else "no data"
    return 200, f"uptime {window}", message, uptime_colour(pct)


@require_GET
def badge(request: HttpRequest, component_id: int, kind: str, slug: str | None = None) -> HttpResponse:
    status, label, message, colour = _badge(request, slug, component_id, kind)
    response = HttpResponse(
        badge_svg(label=label, message=message, colour=colour), content_type="image/svg+xml", status=status
    )
    response["Cache-Control"] = f"public, max-age={SNAPSHOT_SECONDS}"
    return response


@require_GET
def shields_endpoint(request: HttpRequest, component_id: int, kind: str, slug: str | None = None) -> HttpResponse:
    status, label, message, colour = _badge(request, slug, component_id, kind)
    return _json(shields_json(label=label, message=message, colour=colour), status=status)
