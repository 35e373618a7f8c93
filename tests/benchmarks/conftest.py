"""Benchmark harness: each test records figures; the run prints a table and writes benchmarks.json.

Run with `make bench`. Normal test runs skip this folder (pyproject's --ignore), since the
figures mean something only on a machine doing nothing else. LOOKOUT_BENCH_QUICK=1 takes
fewer samples: CI uses it to keep the harness working, not to publish figures.
"""

import json
import os
from dataclasses import asdict, dataclass

import pytest

QUICK = os.environ.get("LOOKOUT_BENCH_QUICK") == "1"

_FIGURES = pytest.StashKey[list]()


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str
    baseline: str
    baseline_value: float
    ratio: float | None  # None when the baseline measured zero (JSON has no infinity)
    goal: str
    met: bool


class Recorder:
    def __init__(self, figures: list[Figure]):
        self._figures = figures

    def record(
        self, *, name: str, value: float, unit: str, baseline: str, baseline_value: float, goal: str, met: bool
    ) -> Figure:
        """One figure, measured against a baseline taken in the same run on the same machine."""
        figure = Figure(
            name=name,
            value=round(value, 3),
            unit=unit,
            baseline=baseline,
            baseline_value=round(baseline_value, 3),
            ratio=round(value / baseline_value, 2) if baseline_value else None,
            goal=goal,
            met=bool(met),
        )
        self._figures.append(figure)
        return figure


def pytest_configure(config):
    config.stash[_FIGURES] = []


@pytest.fixture
def bench(request) -> Recorder:
    return Recorder(request.config.stash[_FIGURES])


@pytest.fixture
def quick() -> bool:
    return QUICK


def pytest_sessionfinish(session):
    figures = session.config.stash.get(_FIGURES, [])
    path = session.config.rootpath / "benchmarks.json"
    # Written on every run, failed ones too, so an old file never passes for a new result.
    path.write_text(json.dumps([asdict(f) for f in figures], indent=2) + "\n")


def pytest_terminal_summary(terminalreporter, config):
    figures = config.stash.get(_FIGURES, [])
    title = "benchmarks (quick mode: fewer samples)" if QUICK else "benchmarks"
    terminalreporter.write_sep("=", title)
    if not figures:
        terminalreporter.write_line("no figures recorded")
        return
    header = ("figure", "value", "baseline", "ratio", "goal", "met")
    rows = [
        (
            f.name,
            f"{f.value:g} {f.unit}",
            f"{f.baseline}: {f.baseline_value:g} {f.unit}",
            "-" if f.ratio is None else f"{f.ratio:g}x",
            f.goal,
            "yes" if f.met else "NO",
        )
        for f in figures
    ]
    widths = [max(len(str(row[i])) for row in (header, *rows)) for i in range(len(header))]
    for row in (header, *rows):
        terminalreporter.write_line("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths)).rstrip())
    terminalreporter.write_line(f"written to {config.rootpath / 'benchmarks.json'}")
