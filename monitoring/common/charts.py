"""Charts in the admin: one way to draw them, served locally (unfold's bundled Chart.js, no CDN).

A page builds a chart in Python and includes one template; ``lookout/charts.js`` (loaded on every
admin page through ``UNFOLD["SCRIPTS"]``) draws it::

    from monitoring.common.charts import Marker, Series, line_chart

    chart = line_chart(
        [Series("p95", [(bucket_start, 412.0), ...]), Series("p50", [...])],
        unit="ms",
        y_label="Response time",
        empty="No probe results in the last 24 h.",
        start=now - timedelta(hours=24),
        end=now,
        markers=[Marker(flip.at, "down")],
    )
    # in the template:
    {% include "admin/lookout/chart.html" with chart=chart %}

Every builder returns a :class:`Chart`, a plain dict (JSON-able, easy to assert on in tests) with
labelled axes and a unit. What the reader gets from every chart, whoever builds it:

- axes with units, the x axis as time in the portal's time zone (or categories for bar charts);
- tooltips that give the value with its unit and the time;
- a single bucket drawn as a visible point, never a zero-length line;
- an empty state that says *why* there is nothing (``empty=`` is required), instead of a blank
  canvas: the template renders that sentence and no canvas when no series has a value.

Builders: :func:`line_chart` (lines, optionally a band filled between two series and vertical
markers, e.g. status flips), :func:`bar_chart` (counts per time bucket or per category, optionally
stacked), :func:`stacked_share_chart` (shares of a whole that add up to 100 %, e.g. good / needs
improvement / poor), :func:`sparkline` (a small axis-less trend for a table cell). Colours come from
:data:`COLORS`; pass your own to ``Series(color=...)`` when a colour means something (red for poor).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings

# A small palette that reads on both the light and the dark theme.
COLORS = ["#2563eb", "#9333ea", "#0d9488", "#ea580c", "#db2777", "#65a30d", "#0891b2", "#ca8a04"]
GOOD, WARN, BAD, NEUTRAL = "#16a34a", "#f59e0b", "#dc2626", "#9ca3af"

X = datetime | float | int | str
# sentry-sdk and the metrics API name units in full; an axis reads better with the symbol.
UNIT_SYMBOLS = {"millisecond": "ms", "second": "s", "microsecond": "µs", "byte": "B", "percent": "%", "ratio": ""}


@dataclass(frozen=True)
class Series:
    """One line or one bar stack: ``points`` are ``(x, value)``; ``None`` values leave a gap.

    ``fill_to`` names another series' label: the area between the two is shaded (a p50–p95 band).
    """

    label: str
    points: Sequence[tuple[X, float | None]]
    color: str | None = None
    fill_to: str | None = None
    dashed: bool = False


@dataclass(frozen=True)
class Marker:
    """A vertical line at a moment (a flip, a deploy), labelled; ``color`` says good or bad."""

    at: datetime
    label: str
    color: str = BAD


class Chart(dict[str, Any]):
    """The spec charts.js draws. A dict, so templates and tests read it like JSON."""

    @property
    def json(self) -> str:
        return json.dumps(dict(self), separators=(",", ":"))

    @property
    def is_empty(self) -> bool:
        return not any(value is not None for s in self["series"] for _, value in s["points"])


def _x(value: X) -> float | str:
    # Time travels as epoch milliseconds: what Chart.js's linear axis and Date() both take.
    if isinstance(value, datetime):
        return round(value.timestamp() * 1000)
    return value


def _series(items: Iterable[Series]) -> list[dict[str, Any]]:
    out = []
    for index, s in enumerate(items):
        out.append(
            {
                "label": s.label,
                "points": [[_x(x), None if v is None else float(v)] for x, v in s.points],
                "color": s.color or COLORS[index % len(COLORS)],
                "fill_to": s.fill_to,
                "dashed": s.dashed,
            }
        )
    return out


def _base(
    kind: str,
    series: Iterable[Series],
    *,
    unit: str,
    empty: str,
    y_label: str,
    x_label: str,
    x_kind: str,
    height: int,
    title: str = "",
) -> Chart:
    if not empty:
        raise ValueError("a chart needs an empty= sentence that says why there is no data")
    unit = UNIT_SYMBOLS.get(unit, unit)
    return Chart(
        {
            "kind": kind,
            "title": title,
            "unit": unit,
            "empty": empty,
            "height": height,
            "x": {"kind": x_kind, "label": x_label, "tz": settings.TIME_ZONE},
            "y": {"label": f"{y_label} ({unit})" if unit and y_label else y_label or unit},
            "series": _series(series),
            "markers": [],
        }
    )


def line_chart(
    series: Iterable[Series],
    *,
    unit: str,
    empty: str,
    y_label: str = "",
    x_label: str = "",
    start: datetime | None = None,
    end: datetime | None = None,
    markers: Iterable[Marker] = (),
    y_min: float | None = 0,
    height: int = 240,
    title: str = "",
) -> Chart:
    """Lines over time. ``start``/``end`` pin the x axis to the window asked for, so a single
    bucket sits where it happened instead of filling the width."""
    chart = _base(
        "line",
        series,
        unit=unit,
        empty=empty,
        y_label=y_label,
        x_label=x_label or f"Time ({settings.TIME_ZONE})",
        x_kind="time",
        height=height,
        title=title,
    )
    chart["x"].update(min=_x(start) if start else None, max=_x(end) if end else None)
    chart["y"]["min"] = y_min
    chart["markers"] = [{"at": _x(m.at), "label": m.label, "color": m.color} for m in markers]
    return chart


def bar_chart(
    series: Iterable[Series],
    *,
    unit: str,
    empty: str,
    y_label: str = "",
    x_label: str = "",
    stacked: bool = False,
    time: bool = True,
    start: datetime | None = None,
    end: datetime | None = None,
    height: int = 200,
    title: str = "",
) -> Chart:
    """Bars per time bucket (``time=True``) or per category label; ``stacked`` piles the series."""
    chart = _base(
        "bar",
        series,
        unit=unit,
        empty=empty,
        y_label=y_label,
        x_label=x_label or (f"Time ({settings.TIME_ZONE})" if time else ""),
        x_kind="time" if time else "category",
        height=height,
        title=title,
    )
    chart["stacked"] = stacked
    chart["x"].update(min=_x(start) if start else None, max=_x(end) if end else None)
    chart["y"]["min"] = 0
    return chart


def stacked_share_chart(
    buckets: Sequence[X],
    shares: Mapping[str, Sequence[float | None]],
    *,
    empty: str,
    colors: dict[str, str] | None = None,
    y_label: str = "Share of samples",
    x_label: str = "",
    time: bool = True,
    height: int = 200,
    title: str = "",
) -> Chart:
    """Stacked bars that add up to 100 % per bucket. ``shares`` maps a label to fractions (0–1)
    per bucket, in stacking order (bottom first); a bucket with no samples holds ``None``."""
    series = [
        Series(
            label,
            [(x, None if v is None else round(v * 100, 2)) for x, v in zip(buckets, values, strict=True)],
            color=(colors or {}).get(label),
        )
        for label, values in shares.items()
    ]
    chart = bar_chart(
        series,
        unit="%",
        empty=empty,
        y_label=y_label,
        x_label=x_label,
        stacked=True,
        time=time,
        height=height,
        title=title,
    )
    chart["kind"] = "share"
    chart["y"]["max"] = 100
    return chart


def sparkline(points: Sequence[tuple[X, float | None]], *, unit: str, empty: str, label: str = "") -> Chart:
    """A small trend for a table cell: no axes, a tooltip per point, the same empty rule."""
    chart = _base(
        "spark",
        [Series(label or unit, points)],
        unit=unit,
        empty=empty,
        y_label="",
        x_label="",
        x_kind="time",
        height=32,
    )
    chart["y"]["min"] = 0
    return chart
