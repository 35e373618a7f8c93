import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitoring.telemetry.histogram import RELATIVE_ERROR, Histogram

# Magnitudes the relative-error promise covers (above the zero threshold), both signs.
values = st.one_of(
    st.floats(min_value=1e-6, max_value=1e12),
    st.floats(min_value=-1e12, max_value=-1e-6),
    st.just(0.0),
)
quantiles = st.sampled_from([0.0, 0.01, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1.0]) | st.floats(0, 1)


def exact(sorted_values, q):
    """numpy's default (linear) quantile and PostgreSQL's percentile_cont: interpolated
    between the values at the ranks either side of q·(n-1)."""
    rank = q * (len(sorted_values) - 1)
    below = math.floor(rank)
    above = min(below + 1, len(sorted_values) - 1)
    low, high = sorted_values[below], sorted_values[above]
    return low + (rank - below) * (high - low)


def within_error(estimate, sorted_values, q):
    """Within 1 % of each of the two values the exact answer interpolates between, in their
    proportions: 1 % of the answer itself when both have one sign. Across zero the answer may
    be near 0 while its neighbours are not, and no relative promise can be kept there."""
    rank = q * (len(sorted_values) - 1)
    below = math.floor(rank)
    above = min(below + 1, len(sorted_values) - 1)
    fraction = rank - below
    scale = (1 - fraction) * abs(sorted_values[below]) + fraction * abs(sorted_values[above])
    # A hair over 1 % for floating-point rounding at bucket edges.
    return abs(estimate - exact(sorted_values, q)) <= RELATIVE_ERROR * scale * (1 + 1e-9)


@settings(max_examples=300, deadline=None)
@given(st.lists(values, min_size=1, max_size=400), quantiles)
def test_quantile_is_within_one_percent_of_the_exact_percentile(sample, q):
    estimate = Histogram.of(sample).quantile(q)
    assert within_error(estimate, sorted(sample), q)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(min_value=1e-6, max_value=1e12), min_size=1, max_size=400), quantiles)
def test_quantile_of_positive_values_is_within_one_percent_of_its_own_value(sample, q):
    truth = exact(sorted(sample), q)
    assert abs(Histogram.of(sample).quantile(q) - truth) <= RELATIVE_ERROR * truth * (1 + 1e-9)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(values, min_size=1, max_size=80), min_size=1, max_size=8), quantiles)
def test_merged_histograms_answer_like_one_built_from_all_values(parts, q):
    merged = Histogram()
    for part in parts:
        merged.merge(Histogram.of(part))
    everything = [v for part in parts for v in part]
    assert merged.count == len(everything)
    assert merged.min == min(everything) and merged.max == max(everything)
    assert merged.quantile(q) == Histogram.of(everything).quantile(q)
    assert within_error(merged.quantile(q), sorted(everything), q)


@settings(max_examples=150, deadline=None)
@given(st.lists(values, min_size=1, max_size=200))
def test_encoding_round_trips(sample):
    histogram = Histogram.of(sample)
    decoded = Histogram.decode(histogram.encode(), total=histogram.sum, minimum=histogram.min, maximum=histogram.max)
    assert decoded == histogram


def test_encoding_is_compact_for_a_realistic_latency_distribution():
    latencies = [50 + (i % 950) * 1.7 for i in range(100_000)]  # 50 ms .. 1.7 s
    encoded = Histogram.of(latencies).encode()
    # a few hundred buckets at two or three bytes each, whatever the number of points
    assert len(encoded) < 1200


def test_share_at_most_splits_good_from_poor():
    histogram = Histogram.of([1000.0] * 3 + [3000.0] * 1 + [5000.0] * 1)
    assert histogram.share_at_most(2500) == pytest.approx(0.6)
    assert histogram.share_at_most(4000) == pytest.approx(0.8)
    assert histogram.share_at_most(10_000) == 1.0
    assert histogram.share_at_most(10) == 0.0


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_values_are_refused(bad):
    with pytest.raises(ValueError, match="value"):
        Histogram().add(bad)


def test_empty_histogram_has_no_quantile():
    assert Histogram().quantile(0.5) is None


@pytest.mark.parametrize(
    "sample",
    [
        [100.0] * 70_000 + [101.0, 150.0, -3.0],  # dense, counts wider than two bytes
        [100.0] * 300 + [130.0] * 5,  # dense, two-byte counts
        [1e-6, 1e12, -1e9, 0.0],  # scattered: sparse pairs are smaller
    ],
)
def test_both_layouts_round_trip(sample):
    histogram = Histogram.of(sample)
    encoded = histogram.encode()
    assert Histogram.decode(encoded, total=histogram.sum, minimum=histogram.min, maximum=histogram.max) == histogram
    assert len(encoded) < 200


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(values, min_size=1, max_size=80), min_size=1, max_size=8))
def test_merging_encoded_rows_equals_merging_decoded_ones(parts):
    """The panels fold stored rows without decoding each into a histogram first: every
    bucket, count and extreme must come out as decode-then-merge gives them."""
    decoded, folded = Histogram(), Histogram()
    for part in parts:
        h = Histogram.of(part)
        row = {"histogram": h.encode(), "sum": h.sum, "min": h.min, "max": h.max}
        decoded.merge(Histogram.from_row(row))
        folded.merge_encoded(row["histogram"], total=h.sum, minimum=h.min, maximum=h.max)
    assert folded == decoded
    assert folded.count == sum(len(part) for part in parts)


def test_merging_encoded_rows_takes_both_layouts_and_wide_counts():
    dense = Histogram.of([100.0] * 70_000 + [101.0, 150.0, -3.0])
    sparse = Histogram.of([1e-6, 1e12, -1e9, 0.0] + [5e3] * 300)
    folded = Histogram()
    for h in (dense, sparse, dense):
        folded.merge_encoded(h.encode(), total=h.sum, minimum=h.min, maximum=h.max)
    expected = Histogram()
    for h in (dense, sparse, dense):
        expected.merge(h)
    assert folded == expected and folded.count == 2 * 70_003 + 304
