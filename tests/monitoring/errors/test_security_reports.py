"""Browser security reports at /api/<project>/security/: CSP (report-uri and report-to),
Expect-CT and HPKP become issues of category security; extension noise is dropped and counted."""

import json

import pytest

from monitoring.models import EnvelopeOutcome, ErrorEvent, ErrorIssue

pytestmark = pytest.mark.django_db


def csp(blocked="https://evil.example/x.js", directive="script-src-elem", page="https://shop.example/cart"):
    return {
        "csp-report": {
            "document-uri": page,
            "referrer": "",
            "violated-directive": directive,
            "effective-directive": directive,
            "original-policy": "script-src 'self'; report-uri /csp",
            "disposition": "enforce",
            "blocked-uri": blocked,
            "status-code": 200,
            "script-sample": "",
        }
    }


def send(client, key, body, content_type="application/csp-report", **headers):
    url = f"/api/{key.project_id}/security/?sentry_key={key.public_key}"
    data = body if isinstance(body, bytes) else json.dumps(body)
    return client.generic("POST", url, data, content_type=content_type, **headers)


def test_a_csp_report_is_an_issue_of_category_security(client, ingest_key):
    response = send(client, ingest_key, csp(), HTTP_USER_AGENT="Chrome/130")
    assert response.status_code == 201
    issue = ErrorIssue.objects.get()
    assert issue.title == "Blocked 'script' from 'evil.example'"
    assert issue.category == "security" and issue.severity == "medium"
    event = ErrorEvent.objects.get()
    assert event.payload["csp"]["effective_directive"] == "script-src-elem"
    assert event.payload["request"]["url"] == "https://shop.example/cart"


def test_reports_group_by_directive_and_blocked_origin(client, ingest_key):
    send(client, ingest_key, csp(blocked="https://evil.example/a.js", page="https://shop.example/a"))
    send(client, ingest_key, csp(blocked="https://evil.example/b.js?v=2", page="https://shop.example/b"))
    send(client, ingest_key, csp(blocked="inline"))
    send(client, ingest_key, csp(blocked="eval"))
    send(client, ingest_key, csp(blocked="data:image/png;base64,xx", directive="img-src"))
    titles = sorted(ErrorIssue.objects.values_list("title", flat=True))
    assert titles == [
        "Blocked 'image' from 'data:'",
        "Blocked 'script' from 'evil.example'",
        "Blocked unsafe eval() 'script'",
        "Blocked unsafe inline 'script'",
    ]


def test_the_reporting_api_batch_keeps_csp_violations_and_counts_the_rest(client, ingest_key):
    batch = [
        {
            "type": "csp-violation",
            "age": 10,
            "url": "https://shop.example/",
            "user_agent": "Chrome/130",
            "body": {
                "documentURL": "https://shop.example/",
                "blockedURL": "inline",
                "effectiveDirective": "script-src-elem",
                "originalPolicy": "script-src 'self'",
                "disposition": "enforce",
                "statusCode": 200,
            },
        },
        {"type": "deprecation", "url": "https://shop.example/", "body": {"id": "x", "message": "old"}},
        {
            "type": "csp-violation",
            "body": {
                "documentURL": "https://shop.example/",
                "blockedURL": "chrome-extension://abc/x.js",
                "effectiveDirective": "script-src-elem",
            },
        },
    ]
    assert send(client, ingest_key, batch, content_type="application/reports+json").status_code == 201
    assert [i.title for i in ErrorIssue.objects.all()] == ["Blocked unsafe inline 'script'"]
    counted = {(o.category, o.reason): o.quantity for o in EnvelopeOutcome.objects.all()}
    assert counted == {("security", "filtered"): 1, ("security", "not_stored"): 1}


def test_extension_reports_are_dropped_and_counted(client, ingest_key):
    for blocked in ("moz-extension://1/a.js", "safari-web-extension://x", "https://www.superfish.com/ws.js"):
        assert send(client, ingest_key, csp(blocked=blocked)).status_code == 201
    assert not ErrorIssue.objects.exists()
    assert EnvelopeOutcome.objects.get().quantity == 3


def test_expect_ct_and_hpkp_reports(client, ingest_key):
    expect_ct = {"expect-ct-report": {"date-time": "2026-12-07T07:00:00Z", "hostname": "shop.example", "port": 443}}
    send(client, ingest_key, expect_ct, content_type="application/expect-ct-report+json")
    hpkp = {"hostname": "shop.example", "port": 443, "known-pins": ['pin-sha256="x"']}
    send(client, ingest_key, hpkp, content_type="application/json")
    assert sorted(ErrorIssue.objects.values_list("title", "category")) == [
        ("Expect-CT failed for 'shop.example'", "security"),
        ("Public key pinning validation failed for 'shop.example'", "security"),
    ]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "detail"),
    [
        (b"{nope", "application/csp-report", 400, "invalid security report: the body is not JSON"),
        ({"csp-report": []}, "application/csp-report", 400, "invalid security report: csp-report must be an object"),
        (
            {"csp-report": {"document-uri": "https://a/"}},
            "application/csp-report",
            400,
            "invalid security report: csp-report.effective-directive (or violated-directive) is required",
        ),
        ({"other": 1}, "application/json", 400, "invalid security report: not a security report"),
        (
            [{"type": "csp-violation", "body": {}}],
            "application/reports+json",
            400,
            "invalid security report: [0].body:",
        ),
        (b"<xml/>", "text/xml", 415, "Content-Type text/xml is not a security report's"),
    ],
)
def test_malformed_reports_are_refused_naming_what_is_wrong(client, ingest_key, body, content_type, status, detail):
    response = send(client, ingest_key, body, content_type=content_type)
    assert response.status_code == status
    assert response.json()["detail"].startswith(detail)
    assert not ErrorEvent.objects.exists()


def test_the_key_is_needed(client, ingest_key):
    url = f"/api/{ingest_key.project_id}/security/"
    assert client.post(url, json.dumps(csp()), content_type="application/csp-report").status_code == 401
    wrong = client.post(f"{url}?sentry_key=nope", json.dumps(csp()), content_type="application/csp-report")
    assert wrong.status_code == 401
