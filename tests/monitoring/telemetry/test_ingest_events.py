from monitoring.models import MetricPoint, MetricSeries


def test_actions_are_stored_with_their_metadata_as_tags(send):
    response = send(
        "/api/v1/events",
        {
            "events": [
                {"action": "checkout", "duration": 812, "metadata": {"plan": "pro", "step": 3}},
                {"action": "export.csv"},
            ]
        },
    )

    assert response.status_code == 200, response.content
    checkout = MetricSeries.objects.get(tags__action="checkout")
    assert (checkout.name, checkout.unit, checkout.tags) == (
        "actions",
        "ms",
        {"action": "checkout", "plan": "pro", "step": "3"},
    )
    assert sorted(MetricPoint.objects.values_list("value", flat=True)) == [0.0, 812.0]


def test_a_single_event_object_is_accepted(send):
    assert send("/api/v1/events", {"action": "search", "duration": 40.5}).json() == {"stored": 1}


def test_bad_events_are_named(send):
    response = send(
        "/api/v1/events",
        [
            {"action": ""},
            {"action": "a", "duration": -1},
            {"action": "b", "metadata": {"action": "x"}},
            {"action": "c", "metadata": "flat"},
        ],
    )
    assert response.status_code == 400
    assert sorted(response.json()["fields"]) == [
        "events[0].action",
        "events[1].duration",
        "events[2].metadata.action",
        "events[3].metadata",
    ]
    assert MetricPoint.objects.count() == 0
