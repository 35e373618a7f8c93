"""A mergeable histogram with logarithmic buckets: percentiles within 1 % of the true value.

Bucket i holds the values in (gamma^(i-1), gamma^i]; answering with the bucket's
midpoint 2·gamma^i / (gamma + 1) is off by at most RELATIVE_ERROR from any value in it.
Histograms with the same gamma merge by adding counts per bucket, so a percentile over
a month is the merge of its hour rollups, never a sort of raw rows.

quantile(q) means what PostgreSQL's percentile_cont and numpy's default (linear) mean: the
value at the fractional rank q·(n-1), interpolated between the two values around it. Each
of those two is estimated from its bucket (exact at the ends, where min and max are kept),
so the answer is a weighted mean of two estimates each within 1 %, itself within 1 %.

Negative values use their own buckets (by magnitude); values closer to zero than
ZERO_THRESHOLD share one zero bucket, so 0.0 (a perfect CLS) costs nothing.

Each side keeps its counts as one dense list from its lowest bucket: merging two is an
element-wise add that runs in C (map over operator.add), which is what makes merging a
month of hour rollups cheap in pure Python.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Mapping
from operator import add
from typing import Any

RELATIVE_ERROR = 0.01
GAMMA = (1 + RELATIVE_ERROR) / (1 - RELATIVE_ERROR)
LOG_GAMMA = math.log(GAMMA)
# Below this magnitude the relative guarantee is given up: such values count as zero.
ZERO_THRESHOLD = 1e-9

ENCODING_VERSION = 2
_SPARSE, _DENSE = 0, 1
# (largest count, struct code, bytes): the narrowest that holds every count of a side.
_WIDTHS = tuple((2 ** (8 * struct.calcsize(f"<{c}")) - 1, c, struct.calcsize(f"<{c}")) for c in "BHIQ")
_CODES = {size: code for _, code, size in _WIDTHS}


class _Buckets:
    """Counts of consecutive bucket indexes, starting at `offset`."""

    __slots__ = ("offset", "counts")

    def __init__(self, offset: int = 0, counts: list[int] | None = None) -> None:
        self.offset = offset
        self.counts = counts or []

    def add(self, index: int, n: int) -> None:
        self._cover(index, index + 1)
        self.counts[index - self.offset] += n

    def merge(self, other: _Buckets) -> None:
        if not other.counts:
            return
        self._cover(other.offset, other.offset + len(other.counts))
        start = other.offset - self.offset
        end = start + len(other.counts)
        self.counts[start:end] = map(add, self.counts[start:end], other.counts)

    def items(self) -> Iterable[tuple[int, int]]:
        """(index, count) from the lowest index up, empty buckets left out."""
        return ((self.offset + i, n) for i, n in enumerate(self.counts) if n)

    def total(self) -> int:
        return sum(self.counts)

    def normalised(self) -> tuple[int, tuple[int, ...]]:
        items = list(self.items())
        if not items:
            return 0, ()
        low, high = items[0][0], items[-1][0]
        return low, tuple(self.counts[low - self.offset : high - self.offset + 1])

    def _cover(self, low: int, high: int) -> None:
        if not self.counts:
            self.offset, self.counts = low, [0] * (high - low)
            return
        if low < self.offset:
            self.counts[:0] = [0] * (self.offset - low)
            self.offset = low
        end = self.offset + len(self.counts)
        if high > end:
            self.counts.extend([0] * (high - end))

    def encode(self, out: bytearray) -> None:
        """Dense (fixed-width counts, unpacked in C) unless most buckets are empty, as in
        a minute with a few scattered values, where (index delta, count) pairs are smaller."""
        low, counts = self.normalised()
        used = sum(1 for n in counts if n)
        _put_varint(out, len(counts))
        if not counts:
            return
        _put_varint(out, _zigzag(low))
        code, width = next((code, width) for limit, code, width in _WIDTHS if max(counts) <= limit)
        if used * 4 < len(counts) * width:
            out.append(_SPARSE)
            _put_varint(out, used)
            previous = low
            for index, n in self.items():
                _put_varint(out, index - previous)
                _put_varint(out, n)
                previous = index
        else:
            out.append(_DENSE)
            out.append(width)
            out += struct.pack(f"<{len(counts)}{code}", *counts)

    def merge_encoded(self, data: bytes, position: int) -> tuple[int, int]:
        """Add the counts encoded at `position` (as encode() wrote them) without building a
        _Buckets for them: (their total, the position after them)."""
        length, position = _get_varint(data, position)
        if not length:
            return 0, position
        low, position = _get_varint(data, position)
        low = _unzigzag(low)
        layout = data[position]
        position += 1
        if layout == _DENSE:
            width = data[position]
            position += 1
            dense = struct.unpack_from(f"<{length}{_CODES[width]}", data, position)
            self._cover(low, low + length)
            start = low - self.offset
            self.counts[start : start + length] = map(add, self.counts[start : start + length], dense)
            return sum(dense), position + length * width
        self._cover(low, low + length)
        counts, index, total = self.counts, low - self.offset, 0
        used, position = _get_varint(data, position)
        for _ in range(used):
            # Inline the one-byte case of _get_varint: nearly every delta and count is one.
            delta = data[position]
            if delta < 0x80:
                position += 1
            else:
                delta, position = _get_varint(data, position)
            n = data[position]
            if n < 0x80:
                position += 1
            else:
                n, position = _get_varint(data, position)
            index += delta
            counts[index] += n
            total += n
        return total, position

    @classmethod
    def decode(cls, data: bytes, position: int) -> tuple[_Buckets, int]:
        length, position = _get_varint(data, position)
        if not length:
            return cls(), position
        low, position = _get_varint(data, position)
        buckets = cls(_unzigzag(low))
        layout = data[position]
        position += 1
        if layout == _DENSE:
            width = data[position]
            code = next(code for _, code, size in _WIDTHS if size == width)
            position += 1
            buckets.counts = list(struct.unpack_from(f"<{length}{code}", data, position))
            return buckets, position + length * width
        buckets.counts = [0] * length
        used, position = _get_varint(data, position)
        index = 0
        for _ in range(used):
            delta, position = _get_varint(data, position)
            n, position = _get_varint(data, position)
            index += delta
            buckets.counts[index] = n
        return buckets, position


class Histogram:
    __slots__ = ("positive", "negative", "zero", "count", "sum", "min", "max")

    def __init__(self) -> None:
        self.positive = _Buckets()
        self.negative = _Buckets()
        self.zero = 0
        self.count = 0
        self.sum = 0.0
        self.min = math.inf
        self.max = -math.inf

    @classmethod
    def of(cls, values: Iterable[float]) -> Histogram:
        histogram = cls()
        for value in values:
            histogram.add(value)
        return histogram

    def add(self, value: float, times: int = 1) -> None:
        if not math.isfinite(value):
            raise ValueError(f"value: {value!r} is not a finite number")
        if value > ZERO_THRESHOLD:
            self.positive.add(_index(value), times)
        elif value < -ZERO_THRESHOLD:
            self.negative.add(_index(-value), times)
        else:
            self.zero += times
        self.count += times
        self.sum += value * times
        self.min = min(self.min, value)
        self.max = max(self.max, value)

    def merge(self, other: Histogram) -> None:
        self.positive.merge(other.positive)
        self.negative.merge(other.negative)
        self.zero += other.zero
        self.count += other.count
        self.sum += other.sum
        self.min = min(self.min, other.min)
        self.max = max(self.max, other.max)

    def quantile(self, q: float) -> float | None:
        """The value at rank q·(count-1), interpolated linearly between the values on either
        side as percentile_cont does, within RELATIVE_ERROR of it for values of one sign."""
        if not 0 <= q <= 1:
            raise ValueError(f"q: {q} is outside 0..1")
        if self.count == 0:
            return None
        rank = q * (self.count - 1)
        below = math.floor(rank)
        fraction = rank - below
        if fraction == 0:
            return self._at_rank(below)
        low, high = self._at_rank(below), self._at_rank(below + 1)
        return low + fraction * (high - low)

    def _at_rank(self, rank: int) -> float:
        """The value at 0-based `rank` in sorted order, estimated from the bucket it fell in."""
        # The extremes are kept exactly, and a single value of a sample is both.
        if rank == 0:
            return self.min
        if rank >= self.count - 1:
            return self.max
        seen = 0
        for index, n in reversed(list(self.negative.items())):
            seen += n
            if seen > rank:
                # Magnitudes in [gamma^(index-1), gamma^index), narrowed by what min and max allow.
                return -_estimate(max(_edge(index - 1), -self.max), min(_edge(index), -self.min))
        seen += self.zero
        if seen > rank:
            return 0.0
        for index, n in self.positive.items():
            seen += n
            if seen > rank:
                return _estimate(max(_edge(index - 1), self.min), min(_edge(index), self.max))
        return self.max

    def share_at_most(self, threshold: float) -> float:
        """The fraction of values <= threshold (to bucket precision): 'rated good' shares."""
        if self.count == 0:
            return 0.0
        if threshold >= self.max:
            return 1.0
        if threshold > ZERO_THRESHOLD:
            limit = _index(threshold)
            below = self.negative.total() + self.zero
            below += sum(n for index, n in self.positive.items() if index <= limit)
        elif threshold >= -ZERO_THRESHOLD:
            below = self.negative.total() + self.zero
        else:
            limit = _index(-threshold)
            below = sum(n for index, n in self.negative.items() if index >= limit)
        return below / self.count

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Histogram) and (
            self.positive.normalised(),
            self.negative.normalised(),
            self.zero,
            self.count,
            self.sum,
            self.min,
            self.max,
        ) == (
            other.positive.normalised(),
            other.negative.normalised(),
            other.zero,
            other.count,
            other.sum,
            other.min,
            other.max,
        )

    # -- compact encoding: version, zero count, then each side's buckets. count, sum, min
    # and max live in their own columns next to it, so decode() takes them back from there.

    def encode(self) -> bytes:
        out = bytearray([ENCODING_VERSION])
        _put_varint(out, self.zero)
        self.positive.encode(out)
        self.negative.encode(out)
        return bytes(out)

    @classmethod
    def from_buckets(cls, *, signs, indexes, counts, total: float, minimum: float, maximum: float) -> Histogram:
        """Values already counted per bucket elsewhere (the database, grouping raw points
        by the same formula as _index()): sign 1 or -1 for a side, 0 for the zero bucket."""
        histogram = cls()
        sides = {1: histogram.positive, -1: histogram.negative}
        for sign, index, n in zip(signs, indexes, counts):
            if sign:
                sides[sign].add(index, n)
            else:
                histogram.zero += n
        histogram.count = sum(counts)
        histogram.sum, histogram.min, histogram.max = total, minimum, maximum
        return histogram

    def merge_encoded(self, data: bytes | memoryview, *, total: float, minimum: float, maximum: float) -> None:
        """merge(decode(...)) without the histogram in between: what a reader folding
        thousands of rollup rows into a few sums does per row."""
        data = bytes(data)
        if not data or data[0] != ENCODING_VERSION:
            raise ValueError("histogram: unknown encoding")
        zero, position = _get_varint(data, 1)
        positive, position = self.positive.merge_encoded(data, position)
        negative, position = self.negative.merge_encoded(data, position)
        self.zero += zero
        self.count += zero + positive + negative
        self.sum += total
        self.min = min(self.min, minimum)
        self.max = max(self.max, maximum)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Histogram:
        """From a rollup row's values(): its encoded buckets and its sum, min and max."""
        return cls.decode(row["histogram"], total=row["sum"], minimum=row["min"], maximum=row["max"])

    @classmethod
    def decode(cls, data: bytes, *, total: float, minimum: float, maximum: float) -> Histogram:
        data = bytes(data)
        if not data or data[0] != ENCODING_VERSION:
            raise ValueError("histogram: unknown encoding")
        histogram = cls()
        histogram.zero, position = _get_varint(data, 1)
        histogram.positive, position = _Buckets.decode(data, position)
        histogram.negative, position = _Buckets.decode(data, position)
        histogram.count = histogram.zero + histogram.positive.total() + histogram.negative.total()
        histogram.sum, histogram.min, histogram.max = total, minimum, maximum
        return histogram


def _index(magnitude: float) -> int:
    return math.ceil(math.log(magnitude) / LOG_GAMMA)


def _edge(index: int) -> float:
    """The upper edge of bucket `index`, gamma^index."""
    return math.exp(index * LOG_GAMMA)


def _estimate(low: float, high: float) -> float:
    """The point of [low, high] (0 < low <= high) with the same relative error to either end,
    their harmonic mean: for a whole bucket it is its midpoint 2·gamma^i / (gamma + 1), off
    by at most RELATIVE_ERROR; where min or max cut the bucket short it is closer still."""
    if low == high:  # every value in the bucket is the same one (min = max): exactly it
        return low
    return 2 * low * high / (low + high)


def _zigzag(n: int) -> int:
    return n * 2 if n >= 0 else -n * 2 - 1


def _unzigzag(n: int) -> int:
    return n // 2 if n % 2 == 0 else -(n + 1) // 2


def _put_varint(out: bytearray, n: int) -> None:
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def _get_varint(data: bytes, position: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, position
        shift += 7
