"""Bodies sent with `Transfer-Encoding: chunked` and no Content-Length (as the Sentry SDKs for Node
send every envelope) are read whole on every endpoint, through gunicorn as the Procfile runs it."""

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from http.client import HTTPConnection

import pytest

from tests.benchmarks.server import ROOT, Gunicorn, manage, server_environment

SETUP = """
import json
from monitoring.models import Heartbeat, Project, Target
project = Project.objects.get(slug="shop")
target = Target.objects.create(project=project, name="nightly", kind=Target.Kind.HEARTBEAT, url="")
heartbeat = Heartbeat.objects.create(target=target)
print(json.dumps({"ping_key": str(heartbeat.ping_key)}))
"""

STORED = """
import json
from alerts.models import Incident
from monitoring.models import ErrorEvent, HeartbeatPing, MetricPoint
print(json.dumps({
    "events": [e.hex for e in ErrorEvent.objects.values_list("event_id", flat=True)],
    "points": list(MetricPoint.objects.values_list("value", flat=True)),
    "ping_bodies": list(HeartbeatPing.objects.values_list("body", flat=True)),
    "incidents": list(Incident.objects.values_list("title", flat=True)),
}))
"""


def _run(env: dict[str, str], *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _pieces(body: bytes, size: int = 7) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def _post_chunked(server: Gunicorn, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    connection = HTTPConnection(server.host, server.port, timeout=30)
    try:
        # A generator body with encode_chunked: http.client sends Transfer-Encoding: chunked
        # and no Content-Length, as a streaming client does.
        connection.request("POST", path, body=_pieces(body), headers=headers, encode_chunked=True)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("chunked")
    env = server_environment(data_dir)
    env["ALERTS_INTAKE_MAX_BODY_BYTES"] = "4096"
    manage(env, "migrate", "--noinput")
    project = _run(env, "createproject", "Shop", "--slug", "shop", "--json")
    integration = _run(env, "createintegration", "ops", "--kind", "events", "--project", "shop", "--json")
    setup = _run(env, "shell", "-c", SETUP)
    server = Gunicorn(env=env, log_path=data_dir / "gunicorn.log", workers=1)
    try:
        server.wait_until_serving("/health/live")
        yield {"server": server, "env": env, "project": project, "integration": integration, **setup}
    finally:
        server.stop()


def test_every_ingest_endpoint_reads_a_chunked_body_whole(portal):
    server, project = portal["server"], portal["project"]
    public_key = project["dsn"].split("//", 1)[1].split("@", 1)[0]
    event_id = uuid.uuid4().hex
    envelope = b"\n".join(
        [
            json.dumps({"event_id": event_id, "sent_at": "2026-12-07T04:00:00Z"}).encode(),
            json.dumps({"type": "event"}).encode(),
            json.dumps({"event_id": event_id, "message": "chunked from node", "platform": "node"}).encode(),
        ]
    )
    status, body = _post_chunked(
        server,
        f"/api/{project['id']}/envelope/?sentry_key={public_key}",
        envelope,
        {"Content-Type": "application/x-sentry-envelope"},
    )
    assert (status, json.loads(body)) == (200, {"id": event_id})

    metrics = json.dumps({"points": [{"name": "checkout.duration", "value": 412, "unit": "ms"}]}).encode()
    status, body = _post_chunked(
        server, "/api/v1/metrics", metrics, {"Content-Type": "application/json", "X-Lookout-Key": public_key}
    )
    assert status in (200, 202), body

    status, body = _post_chunked(server, f"/ping/{portal['ping_key']}/log", b"rows copied: 1200", {})
    assert status == 200, body

    trigger = json.dumps(
        {
            "event_action": "trigger",
            "dedup_key": "disk",
            "payload": {"summary": "disk 95 %", "source": "db1", "severity": "critical"},
        }
    ).encode()
    status, body = _post_chunked(
        server,
        "/api/v1/alerts/events",
        trigger,
        {"Content-Type": "application/json", "Authorization": f"Bearer {portal['integration']['token']}"},
    )
    assert status == 202, body

    stored = _run(portal["env"], "shell", "-c", STORED)
    assert stored["events"] == [event_id]
    assert stored["points"] == [412.0]
    assert stored["ping_bodies"] == ["rows copied: 1200"]
    assert stored["incidents"] == ["disk 95 %"]


def test_a_chunked_body_past_the_endpoints_limit_is_refused_with_413(portal):
    trigger = json.dumps({"event_action": "trigger", "dedup_key": "big", "payload": {"summary": "x" * 8000}})
    status, body = _post_chunked(
        portal["server"],
        "/api/v1/alerts/events",
        trigger.encode(),
        {"Content-Type": "application/json", "Authorization": f"Bearer {portal['integration']['token']}"},
    )
    assert status == 413, body
