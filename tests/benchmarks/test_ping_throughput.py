"""Heartbeat pings per second through gunicorn, against a do-nothing view in the same run.

The server runs on the embedded SQLite database unless LOOKOUT_BENCH_DATABASE_URL names a
PostgreSQL database to use (it is migrated and gets one heartbeat), which is how the
published figure is taken: `LOOKOUT_BENCH_DATABASE_URL=postgres://… make bench`.
"""

import os

import pytest

from tests.benchmarks.server import Gunicorn, manage, requests_per_second, server_environment

GOAL_PER_SECOND = 1000
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


def test_pings_per_second_against_a_do_nothing_view(server, bench, quick):
    seconds = 2 if quick else 10
    address = (server.host, server.port)
    # As curl in a crontab sends them.
    curl = ("User-Agent: curl/8.11.1", "Accept: */*")
    for path in (server.ping_path, BASELINE):
        requests_per_second(*address, path, seconds=1, headers=curl)  # warm up every worker
    baseline, pings = [], []
    for _ in range(2):  # alternate, so a busy moment of the machine hits both alike
        baseline.append(requests_per_second(*address, BASELINE, seconds=seconds // 2, headers=curl)[0])
        pings.append(requests_per_second(*address, server.ping_path, seconds=seconds // 2, headers=curl)[0])
    database = "PostgreSQL" if os.environ.get("LOOKOUT_BENCH_DATABASE_URL") else "SQLite"
    figure = bench.record(
        name=f"pings/s through gunicorn ({server.workers} workers, {database})",
        value=sum(pings) / 2,
        unit="req/s",
        baseline=f"GET {BASELINE}",
        baseline_value=sum(baseline) / 2,
        goal=f">= {GOAL_PER_SECOND} req/s",
        met=sum(pings) / 2 >= GOAL_PER_SECOND,
    )
    if not quick:
        assert figure.met, f"{figure.value:.0f} pings/s"
