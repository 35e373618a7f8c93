"""Gunicorn settings and hooks (the Procfile passes `-c config/gunicorn.py`; flags on its command line win).

Workers count requests into files under PROMETHEUS_MULTIPROC_DIR, which /metrics merges.
The master sets the variable before it forks, so workers inherit the same folder, and
marks each exited worker dead so its live gauges stop being counted.
"""

import os


def default_workers() -> int:
    """(2 × cores) + 1, gunicorn's own advice, counted from the cores this process may run on.

    A sync worker is idle for part of every request: it waits for the database's answer and
    its commit, then for the client to close the connection. With one worker a core, a ping
    load left a quarter of the CPU idle; five workers on two cores served a third more.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return 2 * cores + 1


workers = int(os.environ.get("WEB_CONCURRENCY") or default_workers())

# A line per request only when asked for (WEB_ACCESS_LOG=- for standard output, or a file):
# formatting and writing it cost a sync worker more than answering a cached status page, a
# third of the requests per second at the top of the range. Request counts, statuses and
# latencies are in /metrics either way, and a proxy in front usually keeps its own log.
accesslog = os.environ.get("WEB_ACCESS_LOG") or None


def on_starting(server):
    # The folder comes from the settings (env or the LOOKOUT_DATA_DIR default), so the
    # master reads them once; workers inherit the variable and the loaded settings.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.conf import settings

    directory = os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(settings.PROMETHEUS_MULTIPROC_DIR))
    os.makedirs(directory, exist_ok=True)


def child_exit(server, worker):
    # prometheus_client's multiprocess contract: an exited process's live gauges must
    # stop counting (its counters and histograms stay, so totals never go backwards).
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
