"""A mergeable histogram with logarithmic buckets: percentiles within 1 % of the true value.

Bucket i holds the values in (gamma^(i-1), gamma^i]; answering with the bucket's
midpoint 2·gamma^i / (gamma + 1) is off by at most RELATIVE_ERROR from any value in it.
Histograms with the same gamma merge by adding counts per bucket, so a percentile over
a month is the merge of its hour rollups, never a sort of raw rows.

Negative values use their own buckets (by magnitude); values closer to zero than
ZERO_THRESHOLD share one zero bucket, so 0.0 (a perfect CLS) costs nothing.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

RELATIVE_ERROR = 0.01
GAMMA = (1 + RELATIVE_ERROR) / (1 - RELATIVE_ERROR)
_LOG_GAMMA = LOG_GAMMA = math.log(GAMMA)
# Below this magnitude the relative guarantee is given up: such values count as zero.
ZERO_THRESHOLD = 1e-9

ENCODING_VERSION = 1


class Histogram:
    __slots__ = ("positive", "negative", "zero", "count", "sum", "min", "max")

    def __init__(self) -> None:
        self.positive: Counter[int] = Counter()
        self.negative: Counter[int] = Counter()
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
            self.positive[_index(value)] += times
        elif value < -ZERO_THRESHOLD:
            self.negative[_index(-value)] += times
        else:
            self.zero += times
        self.count += times
        self.sum += value * times
        self.min = min(self.min, value)
        self.max = max(self.max, value)

    def merge(self, other: Histogram) -> None:
        self.positive.update(other.positive)
        self.negative.update(other.negative)
        self.zero += other.zero
        self.count += other.count
        self.sum += other.sum
        self.min = min(self.min, other.min)
        self.max = max(self.max, other.max)

    def quantile(self, q: float) -> float | None:
        """The value at rank floor(q·(count-1)) in sorted order, within RELATIVE_ERROR."""
        if not 0 <= q <= 1:
            raise ValueError(f"q: {q} is outside 0..1")
        if self.count == 0:
            return None
        rank = math.floor(q * (self.count - 1))
        # The extremes are known exactly; clamping also keeps the midpoint inside them.
        if rank == 0:
            return self.min
        if rank == self.count - 1:
            return self.max
        seen = 0
        for index in sorted(self.negative, reverse=True):
            seen += self.negative[index]
            if seen > rank:
                return self._clamp(-_midpoint(index))
        seen += self.zero
        if seen > rank:
            return 0.0
        for index in sorted(self.positive):
            seen += self.positive[index]
            if seen > rank:
                return self._clamp(_midpoint(index))
        return self.max

    def share_at_most(self, threshold: float) -> float:
        """The fraction of values <= threshold (to bucket precision): 'rated good' shares."""
        if self.count == 0:
            return 0.0
        if threshold >= self.max:
            return 1.0
        below = 0
        if threshold > ZERO_THRESHOLD:
            limit = _index(threshold)
            below = sum(self.negative.values()) + self.zero
            below += sum(n for index, n in self.positive.items() if index <= limit)
        elif threshold >= -ZERO_THRESHOLD:
            below = sum(self.negative.values()) + self.zero
        else:
            limit = _index(-threshold)
            below = sum(n for index, n in self.negative.items() if index >= limit)
        return below / self.count

    def _clamp(self, value: float) -> float:
        return min(max(value, self.min), self.max)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Histogram) and all(
            getattr(self, name) == getattr(other, name) for name in self.__slots__
        )

    # -- compact encoding: version, zero count, then per side the bucket count and
    # (index delta, count) pairs as zigzag varints. count/sum/min/max live in their own
    # columns next to the encoded buckets, so decode() takes them back from there.

    def encode(self) -> bytes:
        out = bytearray([ENCODING_VERSION])
        _put_varint(out, self.zero)
        for side in (self.positive, self.negative):
            items = sorted((index, n) for index, n in side.items() if n)
            _put_varint(out, len(items))
            previous = 0
            for index, n in items:
                _put_varint(out, _zigzag(index - previous))
                _put_varint(out, n)
                previous = index
        return bytes(out)

    @classmethod
    def from_buckets(cls, *, signs, indexes, counts, total: float, minimum: float, maximum: float) -> Histogram:
        """Values already counted per bucket elsewhere (the database, grouping raw points
        by the same formula as _index()): sign 1 or -1 for a side, 0 for the zero bucket."""
        histogram = cls()
        sides = {1: histogram.positive, -1: histogram.negative}
        for sign, index, n in zip(signs, indexes, counts):
            if sign:
                sides[sign][index] += n
            else:
                histogram.zero += n
        histogram.count = sum(counts)
        histogram.sum, histogram.min, histogram.max = total, minimum, maximum
        return histogram

    @classmethod
    def from_row(cls, row: dict) -> Histogram:
        """From a rollup row's values(): its encoded buckets and its sum, min and max."""
        return cls.decode(row["histogram"], total=row["sum"], minimum=row["min"], maximum=row["max"])

    @classmethod
    def decode(cls, data: bytes, *, total: float, minimum: float, maximum: float) -> Histogram:
        data = bytes(data)
        if not data or data[0] != ENCODING_VERSION:
            raise ValueError("histogram: unknown encoding")
        histogram = cls()
        position = 1
        histogram.zero, position = _get_varint(data, position)
        for side in (histogram.positive, histogram.negative):
            length, position = _get_varint(data, position)
            index = 0
            for _ in range(length):
                delta, position = _get_varint(data, position)
                n, position = _get_varint(data, position)
                index += _unzigzag(delta)
                side[index] = n
        histogram.count = histogram.zero + sum(histogram.positive.values()) + sum(histogram.negative.values())
        histogram.sum, histogram.min, histogram.max = total, minimum, maximum
        return histogram


def _index(magnitude: float) -> int:
    return math.ceil(math.log(magnitude) / _LOG_GAMMA)


def _midpoint(index: int) -> float:
    return 2 * math.exp(index * _LOG_GAMMA) / (GAMMA + 1)


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
