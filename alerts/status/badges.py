"""Shields-style SVG badges and the JSON shields.io's endpoint badge reads, drawn here so a
badge costs no third-party request."""

import math
from datetime import datetime

from django.utils.html import escape

COLOURS = {
    "green": "#15803d",
    "yellow": "#b45309",
    "orange": "#c2410c",
    "red": "#b91c1c",
    "blue": "#1d4ed8",
    "grey": "#6b7280",
}
# shields.io's own colour names for the endpoint JSON.
SHIELDS_COLOURS = {"grey": "lightgrey"}


def _width(text: str) -> int:
    # Verdana 11 px averages about 7 px a character; badges need not be exact.
    return 10 + 7 * len(text)


def badge_svg(*, label: str, message: str, colour: str) -> str:
    left, right = _width(label), _width(message)
    total = left + right
    fill = COLOURS[colour]
    label_e, message_e = escape(label), escape(message)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" '
        f'aria-label="{label_e}: {message_e}"><title>{label_e}: {message_e}</title>'
        f'<rect width="{left}" height="20" fill="#555"/>'
        f'<rect x="{left}" width="{right}" height="20" fill="{fill}"/>'
        '<g fill="#fff" text-anchor="middle" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="{left / 2}" y="14">{label_e}</text>'
        f'<text x="{left + right / 2}" y="14">{message_e}</text></g></svg>'
    )


def shields_json(*, label: str, message: str, colour: str) -> dict:
    return {"schemaVersion": 1, "label": label, "message": message, "color": SHIELDS_COLOURS.get(colour, colour)}


STATUS_COLOURS = {
    "operational": "green",
    "degraded_performance": "yellow",
    "partial_outage": "orange",
    "major_outage": "red",
    "under_maintenance": "blue",
}


def uptime_colour(pct: float | None) -> str:
    if pct is None:
        return "grey"
    return "green" if pct >= 99.9 else "yellow" if pct >= 99 else "red"


def response_colour(ms: int | None) -> str:
    if ms is None:
        return "grey"
    return "green" if ms < 500 else "yellow" if ms < 2000 else "red"


def cert_days(expires_at: datetime | None, *, now: datetime) -> int | None:
    """Whole days until the certificate expires (negative once it has); None if none was seen."""
    if expires_at is None:
        return None
    return math.floor((expires_at - now).total_seconds() / 86400)


def cert_message(days: int | None) -> str:
    if days is None:
        return "no certificate"
    if days < 0:
        return "expired"
    return "1 day" if days == 1 else f"{days} days"


def cert_colour(days: int | None) -> str:
    # Let's Encrypt renews at 30 days left; under 7 a renewal has failed for weeks.
    if days is None:
        return "grey"
    return "green" if days >= 30 else "yellow" if days >= 7 else "red"
