"""The portal's settings plus one do-nothing view, for the benchmark's web server only."""

from config.settings import *  # noqa: F403  (everything as configured, one line changed)

ROOT_URLCONF = "tests.benchmarks.urls"
