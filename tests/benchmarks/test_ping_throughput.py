"""Heartbeat pings per second through gunicorn, against a do-nothing view in the same run.

The server runs on the embedded SQLite database unless LOOKOUT_BENCH_DATABASE_URL names a
PostgreSQL database to use (it is migrated and gets one heartbeat), which is how the
published figure is taken: `LOOKOUT_BENCH_DATABASE_URL=postgres://… make bench`.
"""

import asyncio
import os
import time

import pytest

from tests.benchmarks.server import Gunicorn, manage, server_environment

GOAL_PER_SECOND = 1000
CONCURRENCY = 32
BASELINE = "/bench/do-nothing"


@pytest.fixture
def server(tmp_path):
    env = server_environment(tmp_path / "data")
    if os.environ.get("LOOKOUT_BENCH_DATABASE_URL"):
        env["DATABASE_URL"] = os.environ["LOOKOUT_BENCH_DATABASE_URL"]
    manage(env, "migrate", "--noinput")
    key_file = tmp_path / "ping_key"
    manage(
        env,
        "shell",
        "-c",
        "from monitoring.models import Heartbeat, Project, Target\n"
        "project, _ = Project.objects.get_or_create(slug='bench-pings', defaults={'name': 'Bench pings'})\n"
        "target = Target.objects.create(project=project, name='bench', kind='heartbeat')\n"
        f"open({str(key_file)!r}, 'w').write(str(Heartbeat.objects.create(target=target).ping_key))",
    )
    running = Gunicorn(env=env, log_path=tmp_path / "gunicorn.log")
    try:
        running.wait_until_serving(BASELINE)
        running.ping_path = f"/ping/{key_file.read_text().strip()}"
        yield running
    finally:
        running.stop()


async def rate(host: str, port: int, path: str, count: int) -> float:
    """Requests per second for `count` GETs, CONCURRENCY at a time, each on a new connection
    as curl in a crontab makes them.

    The client shares the two cores with the server, so it is as cheap as a client can be:
    one prepared request written to a bare stream, the whole answer read, its status line
    checked. aiohttp's client spent twice the CPU per request, taken from the server."""
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: curl/8.11.1\r\n"
        f"Accept: */*\r\nConnection: close\r\n\r\n"
    ).encode()
    left = count

    async def worker():
        nonlocal left
        while left > 0:
            left -= 1
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(request)
            answer = await reader.read()  # the server closes after its answer
            writer.close()
            assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return count / (time.perf_counter() - started)


def test_pings_per_second_against_a_do_nothing_view(server, bench, quick):
    count = 200 if quick else 5000
    address = (server.host, server.port)
    asyncio.run(rate(*address, server.ping_path, 50))  # warm up every worker
    asyncio.run(rate(*address, BASELINE, 50))
    baseline, pings = [], []
    for _ in range(2):  # alternate, so a busy moment of the machine hits both alike
        baseline.append(asyncio.run(rate(*address, BASELINE, count // 2)))
        pings.append(asyncio.run(rate(*address, server.ping_path, count // 2)))
    database = "PostgreSQL" if os.environ.get("LOOKOUT_BENCH_DATABASE_URL") else "SQLite"
    figure = bench.record(
        name=f"pings/s through gunicorn ({server.workers} workers, {database}, {count} pings)",
        value=sum(pings) / 2,
        unit="req/s",
        baseline=f"GET {BASELINE}",
        baseline_value=sum(baseline) / 2,
        goal=f">= {GOAL_PER_SECOND} req/s",
        met=sum(pings) / 2 >= GOAL_PER_SECOND,
    )
    if not quick:
        assert figure.met, f"{figure.value:.0f} pings/s"
