"""Browsers may send telemetry only from the origins a project lists."""

from monitoring.models import IngestRejection, MetricPoint

VITAL = {"name": "FCP", "value": 900}


def test_preflight_from_an_allowed_origin_is_answered(client, ingest_key):
    response = client.options(
        f"/api/v1/vitals?key={ingest_key}",
        headers={
            "Origin": "https://shop.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )

    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "https://shop.example"
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert "Content-Type" in response["Access-Control-Allow-Headers"]
    assert response["Vary"] == "Origin"


def test_preflight_from_another_origin_gets_no_cors_grant(client, ingest_key):
    response = client.options(
        f"/api/v1/vitals?key={ingest_key}",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )

    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response
    assert "origin: https://evil.example" in response.json()["error"]


def test_a_post_from_another_origin_is_refused_and_counted(send, project):
    response = send("/api/v1/vitals", VITAL, Origin="https://evil.example")

    assert response.status_code == 403
    assert MetricPoint.objects.count() == 0
    assert IngestRejection.objects.get(project=project).reason == "origin"


def test_a_wildcard_allows_every_origin(send, project):
    project.telemetry_allowed_origins = "*"
    project.save()
    response = send("/api/v1/vitals", VITAL, Origin="https://anything.example")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "https://anything.example"


def test_servers_without_an_origin_header_are_not_affected(send, project):
    project.telemetry_allowed_origins = ""
    project.save()
    assert send("/api/v1/metrics", [{"name": "m", "value": 1}]).status_code == 200


def test_errors_carry_the_cors_grant_so_the_page_can_read_them(send):
    response = send("/api/v1/vitals", {"name": "NOPE", "value": 1}, Origin="https://shop.example")
    assert response.status_code == 400
    assert response["Access-Control-Allow-Origin"] == "https://shop.example"
