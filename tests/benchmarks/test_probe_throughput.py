"""Probe throughput: the batch runner at concurrency 200 against a target answering in 100 ms,
measured against a sequential loop with one reused client in the same run."""

import asyncio
import subprocess
import sys
import time

import aiohttp
import pytest

from monitoring.models import Target
from monitoring.uptime.probes.base import UP
from monitoring.uptime.probes.runner import probe_batch
from tests.benchmarks.server import ROOT

DELAY_MS = 100
CONCURRENCY = 200
GOAL_PER_SECOND = 1000
GOAL_RATIO = 50


@pytest.fixture(scope="module")
def target_url():
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.benchmarks.probe_target_server", str(DELAY_MS)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        port = int(server.stdout.readline())
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.terminate()
        server.wait(10)


async def sequential(url: str, count: int) -> float:
    """The baseline: one request after another on one reused session (keep-alive)."""
    async with aiohttp.ClientSession() as session:
        started = time.perf_counter()
        for _ in range(count):
            async with session.get(url) as response:
                await response.read()
                assert response.status == 200
        return count / (time.perf_counter() - started)


def test_probe_throughput_against_a_sequential_client(target_url, bench, quick):
    probes = 1000 if quick else 6000
    targets = [Target(pk=i, kind="http", url=target_url, timeout_seconds=10) for i in range(probes)]
    asyncio.run(probe_batch(targets[:CONCURRENCY], concurrency=CONCURRENCY))  # warm up imports and the server

    baseline = asyncio.run(sequential(target_url, 20 if quick else 50))
    started = time.perf_counter()
    results = asyncio.run(probe_batch(targets, concurrency=CONCURRENCY))
    rate = probes / (time.perf_counter() - started)
    assert all(r.outcome.outcome == UP for r in results), {r.outcome.error for r in results}

    absolute = bench.record(
        name=f"probes/s, one process, concurrency {CONCURRENCY}, target {DELAY_MS} ms ({probes} probes)",
        value=rate,
        unit="probes/s",
        baseline="sequential loop, one reused client",
        baseline_value=baseline,
        goal=f">= {GOAL_PER_SECOND} probes/s and >= {GOAL_RATIO}x",
        met=rate >= GOAL_PER_SECOND and rate / baseline >= GOAL_RATIO,
    )
    # Quick mode (CI, a shared machine) checks that the harness works; the goals are held
    # in a full run on a quiet machine.
    if not quick:
        assert absolute.ratio >= GOAL_RATIO, f"only {absolute.ratio}x the sequential client"
        assert absolute.met, f"{rate:.0f} probes/s"
