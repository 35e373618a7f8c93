"""The portal as a small cluster on one machine: two web processes, two workers on different
queue sets, one beat, over PostgreSQL and a Redis of the test's own.

- Worker "eu" consumes only `probes.eu`, as a probe box in another region would; worker
  "main" the rest: `default,probes,probes.local,notify,ingest,backups` (the Procfile's set).
- Two targets are probed from both regions every 10 s against a local server that the test
  makes fail, first for one region, then for both. The target with quorum 1 is down as soon
  as one region fails; the one with quorum "all" only once both do.
- A target-status rule with a two-step escalation policy pages a webhook channel (internal,
  so it may reach the loopback receiver the test runs).

Afterwards: no target was probed twice in a region's due slot, every incident step was paged
once (one delivery per Idempotency-Key, one key per incident and step), and the quorum decided
"down". The test reads statuses as a user does: through the API, alternately from each web process.

It knows which region probed by which worker process holds the client end of the connection
(/proc on Linux): both workers run here and reach the server from the same address.
"""

import asyncio
import http.client
import json
import math
import os
import sys
import time
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import web
from django.conf import settings
from django.db import connection
from django.utils import timezone

from alerts.models import Channel, EscalationPolicy, EscalationStep, IncidentEvent, Notification
from alerts.rules.kinds import RULE_KINDS
from monitoring.models import ProbeResult, Target
from tests.alerts.delivery.sink import serve_sink
from tests.alerts.rules.factories import RuleFactory
from tests.benchmarks.celery_processes import celery, stop
from tests.benchmarks.server import Gunicorn
from tests.factories import ProjectFactory, make_api_token
from tests.faults.conftest import only_in_fault_suite, record_none
from tests.monitoring.uptime.factories import TargetFactory
from tests.monitoring.uptime.servers import serve_http
from tests.processes import current_database_url

pytestmark = [
    only_in_fault_suite,
    pytest.mark.celery_worker,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="tells regions apart through /proc"),
]

INTERVAL = 10
TICK = 5  # config/celery.py: dispatch-due-probes and rules.evaluate_due every 5 s
ESCALATION_TICK = 10  # paging.advance_escalations
SLACK = 10.0  # two cores shared with the rest of the machine: startup, pick-up, writes
START_SECONDS = 60


# --- Which region probed: the worker process holding the client's socket.


def _socket_inode(client_port: int) -> str | None:
    """The inode of the loopback TCP socket whose local port is `client_port`."""
    wanted = f":{client_port:04X}"
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            # A closed connection lingering in TIME_WAIT on the same port has inode 0: it
            # belongs to nobody, so it must not hide the live socket further down.
            if fields[1].endswith(wanted) and fields[9] != "0":
                return fields[9]
    return None


def _session_pids(session: int) -> list[int]:
    """Every process of a session: the worker started in a session of its own, and its pool."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # exited meanwhile
        # pid (comm) state ppid pgrp session ...; comm may hold spaces, so split after ")".
        if int(stat.rsplit(")", 1)[1].split()[3]) == session:
            pids.append(int(entry.name))
    return pids


def _holds(pids: list[int], inode: str) -> bool:
    link = f"socket:[{inode}]"
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == link:
                    return True
            except OSError:
                continue
    return False


class RegionalService:
    """The probed service: answers 503 to the regions told to fail, 200 to the others."""

    def __init__(self) -> None:
        self.sessions: dict[str, int] = {}  # region -> its worker's session id
        self.failing: set[str] = set()
        self.answers: Counter[tuple[str, int]] = Counter()
        self.url = ""

    def region_of(self, client_port: int) -> str:
        inode = _socket_inode(client_port)
        if inode is not None:
            for region, session in self.sessions.items():
                if _holds(_session_pids(session), inode):
                    return region
        return "?"

    async def answer(self, client_port: int) -> int:
        # The kernel's tables can lag the accept by a moment; look again before calling the
        # caller unknown, since an unknown caller is failed and would skew the quorum.
        region = self.region_of(client_port)
        for _ in range(10):
            if region != "?":
                break
            await asyncio.sleep(0.05)
            region = self.region_of(client_port)
        status = 503 if region in self.failing or region == "?" else 200
        self.answers[(region, status)] += 1
        return status


def regional_app(service: RegionalService) -> web.Application:
    async def health(request: web.Request) -> web.Response:
        assert request.transport is not None
        _, client_port = request.transport.get_extra_info("peername")[:2]
        return web.Response(status=await service.answer(client_port))

    app = web.Application()
    app.router.add_get("/health", health)
    return app


# --- The cluster's processes.


def _api_status(webs: list[Gunicorn], token: str, target_id: int, turn: list[int]) -> str:
    """The target's status as the API answers it, from each web process in turn."""
    web = webs[turn[0] % len(webs)]
    turn[0] += 1
    client = http.client.HTTPConnection(web.host, web.port, timeout=10)
    try:
        client.request("GET", f"/api/v1/targets/{target_id}", headers={"Authorization": f"Bearer {token}"})
        response = client.getresponse()
        body = response.read()
    finally:
        client.close()
    assert response.status == 200, body[:500]
    return json.loads(body)["status"]


def _wait_ready(log: Path, marker: str, process, what: str) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if marker in log.read_text(errors="replace"):
            return
        if process.poll() is not None:
            break
        time.sleep(0.2)
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
    pytest.fail(f"{what} did not start:\n{tail}")


def _until(condition, what: str, *, seconds: float, logs: list[Path]) -> float:
    """Wait for `condition`; returns the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if condition():
            return time.monotonic() - started
        time.sleep(0.5)
    tails = "\n\n".join(
        f"{log.name}:\n" + "\n".join(log.read_text(errors="replace").splitlines()[-15:]) for log in logs
    )
    pytest.fail(f"{what} within {seconds:g} s; logs:\n{tails}")


def test_a_cluster_probes_once_per_region_and_slot_pages_each_step_once_and_lets_the_quorum_decide(
    transactional_db, tmp_path, redis_server, bench
):
    if connection.vendor != "postgresql":
        pytest.skip("the cluster runs over PostgreSQL (DATABASE_URL)")
    started_at = time.monotonic()
    env = {
        **os.environ,
        "LOOKOUT_READ_DOT_ENV": "0",
        "LOOKOUT_DATA_DIR": str(settings.DATA_DIR),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": current_database_url(),
        "CELERY_BROKER_URL": redis_server.url,
        "CACHE_URL": f"redis://127.0.0.1:{redis_server.port}/1",
        "SENTRY_DSN": "",
        "LOG_LEVEL": "INFO",
    }
    env.pop("ROOT_URLCONF", None)

    project = ProjectFactory(slug="cluster")
    token = make_api_token(scope="read").secret
    logs = {name: tmp_path / f"{name}.log" for name in ("web-a", "web-b", "main", "eu", "beat")}
    processes: dict[str, object] = {}
    handles = []  # the Celery processes' log files
    service = RegionalService()
    with serve_sink() as sink, serve_http(regional_app(service)) as base_url:
        service.url = f"{base_url}/health"
        # Internal: the receiver is on loopback, which only an internal channel may reach.
        channel = Channel.objects.create(
            name="cluster-hook", kind=Channel.Kind.WEBHOOK, config={"url": f"{sink.url}/hook"}, allow_private=True
        )
        policy = EscalationPolicy.objects.create(name="cluster")
        for order, delay in enumerate((0, 1)):
            step = EscalationStep.objects.create(policy=policy, order=order, delay_minutes=delay)
            step.channels.add(channel)
        never = timezone.now() + timedelta(days=1)  # probed only once the cluster is up
        common = {
            "project": project,
            "url": service.url,
            "regions": ["local", "eu"],
            "interval_seconds": INTERVAL,
            "timeout_seconds": 5,
            "down_after_failures": 1,
            "next_run_at": never,
        }
        quorum_all = TargetFactory(name="quorum all", quorum=None, **common)
        quorum_one = TargetFactory(name="quorum one", quorum=1, **common)
        RuleFactory(
            project=project,
            name="Target down",
            kind="target_status",
            interval_seconds=10,
            group_wait_seconds=0,
            escalation_policy=policy,
            params=RULE_KINDS["target_status"].validate_params(
                {"statuses": ["down"], "target_ids": [quorum_all.pk, quorum_one.pk]}
            ),
        )
        try:
            webs = []
            for name in ("web-a", "web-b"):
                web = Gunicorn(env=env, log_path=logs[name], workers=1)
                processes[name] = web
                webs.append(web)
            for name, queues in (("main", "default,probes,probes.local,notify,ingest,backups"), ("eu", "probes.eu")):
                handles.append(logs[name].open("ab"))
                processes[name] = celery(
                    env,
                    handles[-1],
                    "worker",
                    "--queues",
                    queues,
                    "--hostname",
                    f"{name}@cluster",
                    "--concurrency",
                    "2",
                    "--loglevel",
                    "INFO",
                    "--without-gossip",
                    "--without-mingle",
                )
            service.sessions = {"local": processes["main"].pid, "eu": processes["eu"].pid}
            for web in webs:
                web.wait_until_serving("/health/live")
            for name in ("main", "eu"):
                _wait_ready(logs[name], f"{name}@cluster ready", processes[name], f"worker {name}")
            handles.append(logs["beat"].open("ab"))
            processes["beat"] = celery(env, handles[-1], "beat", "--loglevel", "INFO")
            _wait_ready(logs["beat"], "beat: Starting", processes["beat"], "beat")
            startup = time.monotonic() - started_at

            anchor = timezone.now() + timedelta(seconds=2)
            Target.objects.filter(pk__in=[quorum_all.pk, quorum_one.pk]).update(next_run_at=anchor)
            turn = [0]

            def status(target: Target) -> str:
                return _api_status(webs, token, target.pk, turn)

            def reported(target: Target, *regions: str) -> bool:
                return ProbeResult.objects.filter(target=target, region__in=regions).values(
                    "region"
                ).distinct().count() == len(regions)

            every_log = list(logs.values())
            # 1. Every region answers: both targets up.
            _until(
                lambda: all(status(t) == "up" for t in (quorum_all, quorum_one)),
                "the targets never read as up",
                seconds=3 * INTERVAL + SLACK,
                logs=every_log,
            )
            # 2. eu fails, local does not: quorum 1 is reached, quorum "all" is not.
            service.failing = {"eu"}
            eu_failed_at = timezone.now()
            _until(
                lambda: status(quorum_one) == "down",
                "quorum 1 never read as down",
                seconds=2 * INTERVAL + SLACK,
                logs=every_log,
            )
            # One more full round of both regions' failing-and-passing results on the quorum-all target.
            _until(
                lambda: (
                    ProbeResult.objects.filter(
                        target=quorum_all, checked_at__gt=eu_failed_at, region="eu", outcome=ProbeResult.Outcome.DOWN
                    ).exists()
                    and ProbeResult.objects.filter(
                        target=quorum_all, checked_at__gt=eu_failed_at, region="local"
                    ).exists()
                ),
                "both regions never probed the quorum-all target after eu began to fail",
                seconds=2 * INTERVAL + SLACK,
                logs=every_log,
            )
            one_region_status = status(quorum_all)
            # 3. Both fail: now "all" agree.
            service.failing = {"eu", "local"}
            to_down = _until(
                lambda: status(quorum_all) == "down",
                "quorum all never read as down",
                seconds=2 * INTERVAL + SLACK,
                logs=every_log,
            )
            # 4. Each incident's second step pages a minute after its first; then a tick more
            # for any repeat to show.
            _until(
                lambda: (
                    IncidentEvent.objects.filter(kind=IncidentEvent.Kind.ESCALATED, data__step=2).count() == 2
                    and not Notification.objects.exclude(status=Notification.Status.DELIVERED).exists()
                ),
                "both incidents' second steps were never delivered",
                seconds=60 + 2 * ESCALATION_TICK + SLACK,
                logs=every_log,
            )
            time.sleep(ESCALATION_TICK + TICK)
        finally:
            for name in ("beat", "main", "eu", "web-a", "web-b"):
                process = processes.get(name)
                if isinstance(process, Gunicorn):
                    process.stop()
                elif process is not None:
                    stop(process)
            for handle in handles:
                handle.close()
        wall = time.monotonic() - started_at
        requests = list(sink.requests)

    # (a) Never twice per region and due slot: slots are counted from the anchor, a result
    # belongs to the slot it was due in (a probe is never early, and late by far less than an interval).
    per_slot = Counter(
        (target_id, region, math.floor((checked_at - anchor).total_seconds() / INTERVAL))
        for target_id, region, checked_at in ProbeResult.objects.values_list("target_id", "region", "checked_at")
    )
    twice = sum(count - 1 for count in per_slot.values() if count > 1)
    per_region = Counter(region for _, region, _ in per_slot)
    assert set(per_region) == {"local", "eu"} and min(per_region.values()) >= 6, per_region
    assert "?" not in {region for region, _ in service.answers}, service.answers

    # (b) One page per incident step: each step's notification reached the receiver once.
    pages = list(
        Notification.objects.filter(event__kind=IncidentEvent.Kind.ESCALATED).values_list(
            "incident_id", "event__data__step", "idempotency_key"
        )
    )
    received = Counter(r.headers.get("idempotency-key", "") for r in requests)
    keys_per_step = Counter((incident, step) for incident, step, _ in pages)
    deliveries_per_step = defaultdict(int)
    for incident, step, key in pages:
        deliveries_per_step[(incident, step)] += received[key]
    most_pages = max(deliveries_per_step.values())

    record_none(
        bench,
        "faults: cluster of 2 web, 2 workers, 1 beat, probes run twice in a region's slot",
        twice,
        unit="probes",
        out_of=sum(per_slot.values()),
        of="probes run",
    )
    bench.record(
        name="faults: cluster of 2 web, 2 workers, 1 beat, pages per incident step",
        value=most_pages,
        unit="pages",
        baseline="incident steps",
        baseline_value=len(deliveries_per_step),
        goal="1",
        met=set(deliveries_per_step.values()) == {1},
    )
    bench.record(
        name='faults: cluster, quorum "all", both regions failing to "down" in the API',
        value=round(to_down, 1),
        unit="s",
        baseline="interval + tick",
        baseline_value=INTERVAL + TICK,
        goal=f"<= interval + tick + slack ({INTERVAL + TICK + SLACK:g} s)",
        met=to_down <= INTERVAL + TICK + SLACK,
    )
    print(f"cluster: startup {startup:.1f} s, wall {wall:.1f} s, answers {dict(service.answers)}")

    assert twice == 0, [slot for slot, count in per_slot.items() if count > 1]
    # Two incidents (one per target), two steps each, one key per step, delivered once each.
    assert len(keys_per_step) == 4 and set(keys_per_step.values()) == {1}, pages
    assert set(deliveries_per_step.values()) == {1}, deliveries_per_step
    assert max(received.values()) == 1, received  # nothing else was sent twice either
    # (c) The quorum decided: one failing region of two was not "down" for quorum "all".
    assert one_region_status == "degraded", one_region_status
    assert to_down <= INTERVAL + TICK + SLACK
