"""Gunicorn hooks (the Procfile passes `-c config/gunicorn.py`; flags stay on its command line).

Workers count requests into files under PROMETHEUS_MULTIPROC_DIR, which /metrics merges.
The master sets the variable before it forks, so workers inherit the same folder, and
marks each exited worker dead so its live gauges stop being counted.
"""

import os


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
