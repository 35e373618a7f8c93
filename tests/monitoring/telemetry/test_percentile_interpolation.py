"""Percentiles people can check: the same numbers numpy's default and PostgreSQL's
percentile_cont give, to 1 %, from one value to ten million."""

import math
import random
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from hypothesis import given, settings
from hypothesis import strategies as st

from monitoring.telemetry.histogram import RELATIVE_ERROR, Histogram
from monitoring.telemetry.payloads import PointIn
from monitoring.telemetry.selectors.metrics import query
from monitoring.telemetry.services.ingest import telemetry_ingest
from monitoring.telemetry.services.rollups import rollups_build

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
FOUR = [380.0, 412.0, 520.0, 610.0]


def linear(values, q):
    """numpy.quantile(values, q) with its default method="linear" (numpy is not a dependency
    here): interpolate between the sorted values at the ranks either side of q·(n-1)."""
    ordered = sorted(values)
    rank = q * (len(ordered) - 1)
    below = math.floor(rank)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (rank - below) * (ordered[above] - ordered[below])


def test_the_reference_is_numpys_linear_quantile():
    # numpy.quantile([380, 412, 520, 610], [0.5, 0.75, 0.95, 0.99]) on numpy 2.4
    assert [linear(FOUR, q) for q in (0.5, 0.75, 0.95, 0.99)] == pytest.approx([466.0, 542.5, 596.5, 607.3])


def test_four_values_give_a_p95_and_p99_between_the_top_two():
    histogram = Histogram.of(FOUR)

    p95, p99 = histogram.quantile(0.95), histogram.quantile(0.99)

    # Read at rank floor(q·(n-1)) both were the third value (518 from its bucket).
    assert p95 == pytest.approx(596.5, rel=RELATIVE_ERROR)
    assert p99 == pytest.approx(607.3, rel=RELATIVE_ERROR)
    assert 520 < p95 < p99 <= 610


def test_the_ends_are_exact():
    histogram = Histogram.of(FOUR)
    assert (histogram.quantile(0), histogram.quantile(1)) == (380.0, 610.0)
    assert Histogram.of([1234.5]).quantile(0.75) == 1234.5
    assert Histogram.of([7.25] * 9).quantile(0.5) == 7.25


@settings(max_examples=500, deadline=None)
@given(
    st.lists(st.floats(min_value=1e-3, max_value=1e7), min_size=1, max_size=12),
    st.sampled_from([0.5, 0.75, 0.9, 0.95, 0.99]) | st.floats(0, 1),
)
def test_small_samples_agree_with_numpy_to_one_percent(sample, q):
    truth = linear(sample, q)
    assert abs(Histogram.of(sample).quantile(q) - truth) <= RELATIVE_ERROR * truth * (1 + 1e-9)


def weighted_linear(counted, q):
    """linear() over values repeated as often as counted, without making the list."""
    ordered = sorted(counted.items())
    total = sum(counted.values())

    def at(rank):
        seen = 0
        for value, n in ordered:
            seen += n
            if seen > rank:
                return value
        raise AssertionError(rank)

    rank = q * (total - 1)
    below = math.floor(rank)
    low, high = at(below), at(min(below + 1, total - 1))
    return low + (rank - below) * (high - low)


@pytest.mark.parametrize("total", [10, 1_000, 100_000, 10_000_000])
def test_large_counts_stay_within_one_percent(total):
    rng = random.Random(total)
    counted = {}
    for _ in range(total if total <= 1_000 else 2_000):
        value = round(50 - 120 * math.log(1 - rng.random()), 3)  # the benchmark's latencies
        counted[value] = counted.get(value, 0) + 1
    # Scale the multiplicities up to `total` points, as a week of rollups would hold.
    scale = total / sum(counted.values())
    counted = {v: max(1, round(n * scale)) for v, n in counted.items()}
    histogram = Histogram()
    for value, n in counted.items():
        histogram.add(value, n)

    for q in (0.01, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999):
        truth = weighted_linear(counted, q)
        assert abs(histogram.quantile(q) - truth) <= RELATIVE_ERROR * truth * (1 + 1e-9), q


def test_a_rank_between_two_far_apart_values_interpolates_at_ten_million():
    histogram = Histogram()
    histogram.add(100.0, 5_000_000)
    histogram.add(200.0, 5_000_000)
    # rank 4,999,999.5: halfway between the last 100 and the first 200
    assert histogram.quantile(0.5) == pytest.approx(150.0, rel=RELATIVE_ERROR)


def test_merged_rollups_interpolate_like_one_histogram():
    parts = [FOUR[:2], FOUR[2:]]
    merged = Histogram()
    for part in parts:
        merged.merge(Histogram.of(part))
    assert merged.quantile(0.95) == Histogram.of(FOUR).quantile(0.95)


@time_machine.travel(NOW, tick=False)
def test_query_reads_the_interpolated_p95_from_rollups(project):
    telemetry_ingest(
        project=project,
        points=[
            PointIn(name="checkout", value=v, timestamp=NOW - timedelta(minutes=5 + i), tags={})
            for i, v in enumerate(FOUR)
        ],
    )
    while rollups_build():
        pass

    for agg, truth in (("p95", 596.5), ("p99", 607.3)):
        [bucket] = query(project, "checkout", agg=agg, window=timedelta(hours=1)).buckets
        assert bucket.value == pytest.approx(truth, rel=RELATIVE_ERROR), agg
