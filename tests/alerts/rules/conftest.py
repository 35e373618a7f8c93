from datetime import datetime

import pytest
import time_machine

from alerts.rules.services.evaluation import rules_evaluate_due
from tests.alerts.rules.factories import capture_signals
from tests.factories import ProjectFactory


@pytest.fixture
def signals(monkeypatch) -> list:
    """Every AlertSignal the evaluator hands to alerts_receive (the one seam to incidents),
    kept from it; tests without this fixture go through the real incidents engine."""
    return capture_signals(monkeypatch)


@pytest.fixture
def project(db):
    return ProjectFactory(slug="shop")


@pytest.fixture
def tick():
    """Run the evaluator tick at `moment`, with the clock frozen there."""

    def tick(moment: datetime) -> int:
        with time_machine.travel(moment, tick=False):
            return rules_evaluate_due(now=moment)

    return tick
