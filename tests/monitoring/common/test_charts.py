"""The shared chart specs: what every chart in the admin promises its reader."""

from datetime import UTC, datetime, timedelta

import pytest
from django.template.loader import render_to_string

from monitoring.common.charts import Marker, Series, bar_chart, line_chart, sparkline, stacked_share_chart

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def test_a_line_chart_carries_its_unit_axes_window_and_markers():
    chart = line_chart(
        [Series("p95", [(NOW - timedelta(minutes=5), 412.0)], fill_to="p50"), Series("p50", [(NOW, 380)])],
        unit="ms",
        y_label="Response time",
        empty="No probe results in the last 24 h.",
        start=NOW - timedelta(hours=24),
        end=NOW,
        markers=[Marker(NOW - timedelta(hours=1), "down")],
    )

    assert chart["y"]["label"] == "Response time (ms)"
    assert chart["x"]["label"].startswith("Time (")
    assert chart["x"]["min"] == (NOW - timedelta(hours=24)).timestamp() * 1000
    assert chart["series"][0]["points"] == [[(NOW - timedelta(minutes=5)).timestamp() * 1000, 412.0]]
    assert chart["series"][0]["fill_to"] == "p50"
    assert chart["markers"][0]["label"] == "down"
    assert not chart.is_empty


def test_a_chart_without_values_renders_its_reason_not_a_canvas():
    chart = line_chart([Series("p95", [(NOW, None)])], unit="ms", empty="No data in the last 24 h.")

    html = render_to_string("admin/lookout/chart.html", {"chart": chart})

    assert chart.is_empty
    assert "No data in the last 24 h." in html and "<canvas" not in html


def test_a_chart_with_one_bucket_renders_a_canvas_with_its_spec():
    chart = bar_chart([Series("events", [(NOW, 3)])], unit="events", empty="No events.")

    html = render_to_string("admin/lookout/chart.html", {"chart": chart})

    assert "<canvas" in html and "data-lookout-chart=" in html and "&quot;events&quot;" in html


def test_shares_are_percentages_stacked_to_one_hundred():
    chart = stacked_share_chart(
        [NOW - timedelta(days=1), NOW],
        {"good": [0.5, None], "needs improvement": [0.25, None], "poor": [0.25, None]},
        empty="No samples.",
    )

    assert chart["kind"] == "share" and chart["stacked"] and chart["y"]["max"] == 100
    assert [s["points"][0][1] for s in chart["series"]] == [50.0, 25.0, 25.0]


def test_every_chart_must_say_why_it_can_be_empty():
    with pytest.raises(ValueError, match="empty="):
        sparkline([(NOW, 1)], unit="events", empty="")
