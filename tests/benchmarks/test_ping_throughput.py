"""Heartbeat pings per second through gunicorn, against a do-nothing view in the same run.

The server runs on the embedded SQLite database unless LOOKOUT_BENCH_DATABASE_URL names a
PostgreSQL database to use (it is migrated and gets one heartbeat), which is how the
published figure is taken: `LOOKOUT_BENCH_DATABASE_URL=postgres://… make bench`.
"""

import asyncio
import os
import time

import aiohttp
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
    manage(env, "shell", "-c",
           "from monitoring.models import Heartbeat, Project, Target\n"
           "project, _ = Project.objects.get_or_create(slug='bench-pings', defaults={'name': 'Bench pings'})\n"
           "target = Target.objects.create(project=project, name='bench', kind='heartbeat')\n"
           f"open({str(key_file)!r}, 'w').write(str(Heartbeat.objects.create(target=target).ping_key))")
    running = Gunicorn(env=env, log_path=tmp_path / "gunicorn.log")
    try:
        running.wait_until_serving(BASELINE)
        running.ping_path = f"/ping/{key_file.read_text().strip()}"
        yield running
    finally:
        running.stop()


async def rate(base_url: str, path: str, count: int) -> float:
    """Requests per second for `count` GETs, CONCURRENCY at a time, each on a new connection."""
    connector = aiohttp.TCPConnector(limit=CONCURRENCY, force_close=True)
    async with aiohttp.ClientSession(base_url, connector=connector) as session:
        left = count

        async def worker():
            nonlocal left
            while left > 0:
                left -= 1
                async with session.get(path) as response:
                    await response.read()
                    assert response.status == 200, response.status

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return count / (time.perf_counter() - started)


def test_pings_per_second_against_a_do_nothing_view(server, bench, quick):
    count = 200 if quick else 5000
    base = f"http://{server.host}:{server.port}"
    asyncio.run(rate(base, server.ping_path, 50))  # warm up both workers
    asyncio.run(rate(base, BASELINE, 50))
    baseline, pings = [], []
    for _ in range(2):  # alternate, so a busy moment of the machine hits both alike
        baseline.append(asyncio.run(rate(base, BASELINE, count // 2)))
        pings.append(asyncio.run(rate(base, server.ping_path, count // 2)))
    database = "PostgreSQL" if os.environ.get("LOOKOUT_BENCH_DATABASE_URL") else "SQLite"
    figure = bench.record(
        name=f"pings/s through gunicorn ({server.workers} workers, {database}, {count} pings)", value=sum(pings) / 2,
        unit="req/s", baseline=f"GET {BASELINE}", baseline_value=sum(baseline) / 2,
        goal=f">= {GOAL_PER_SECOND} req/s", met=sum(pings) / 2 >= GOAL_PER_SECOND,
    )
    if not quick:
        assert figure.met, f"{figure.value:.0f} pings/s"
