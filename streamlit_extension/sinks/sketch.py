"""A mergeable duration sketch: percentiles within a stated relative error, from counts kept
per logarithmic bucket.

This is the DDSketch idea (Masson, Rim, Lee, VLDB 2019): a value ``x > 0`` goes to bucket
``ceil(log(x) / log(gamma))`` with ``gamma = (1 + a) / (1 - a)``; every value in a bucket lies
within a relative error ``a`` of the bucket's representative value, so a percentile read from
the buckets is within ``a`` of the exact nearest-rank one. Two sketches merge by adding their
counts, which is what lets an archive's manifest hold one per operation and ``st-logs stats``
add them up. Durations are never negative; zero (and anything under ``MIN_VALUE``) has its own
count. The project's runtime dependencies stay loguru, streamlit and orjson, so the sketch is
kept here, small; ``tests/test_sketch.py`` holds it to its error bound.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

RELATIVE_ERROR = 0.01  # 1 %: what every percentile read from a sketch promises
MIN_VALUE = 1e-9  # ms; anything smaller counts as zero


class DurationSketch:
    """Counts per logarithmic bucket; ``add``, ``merge``, ``percentile``; JSON-able."""

    __slots__ = ("_gamma_log", "buckets", "count", "error", "zeros")

    def __init__(self, error: float = RELATIVE_ERROR) -> None:
        if not 0 < error < 1:
            raise ValueError(f"relative error must be between 0 and 1, got {error!r}")
        self.error = error
        self._gamma_log = math.log((1 + error) / (1 - error))
        self.buckets: Counter[int] = Counter()
        self.zeros = 0
        self.count = 0

    def add(self, value: float) -> None:
        if value > MIN_VALUE:
            self.buckets[math.ceil(math.log(value) / self._gamma_log)] += 1
        else:
            self.zeros += 1
        self.count += 1

    def update(self, values: Iterable[float]) -> DurationSketch:
        for value in values:
            self.add(value)
        return self

    def merge(self, other: DurationSketch) -> DurationSketch:
        if other.error != self.error:
            raise ValueError(f"cannot merge sketches of relative error {self.error} and {other.error}")
        self.buckets.update(other.buckets)
        self.zeros += other.zeros
        self.count += other.count
        return self

    def _value(self, index: int) -> float:
        # The point of bucket (gamma^(i-1), gamma^i] within relative error ``error`` of all of it.
        gamma = math.exp(self._gamma_log)
        return 2 * gamma ** index / (gamma + 1)

    def percentile(self, q: float) -> float | None:
        """The nearest-rank ``q``-th percentile (0 < q <= 100), within ``error`` of the exact one."""
        if self.count == 0:
            return None
        rank = min(max(1, math.ceil(q * self.count / 100)), self.count)
        if rank <= self.zeros:
            return 0.0
        seen = self.zeros
        for index in sorted(self.buckets):
            seen += self.buckets[index]
            if seen >= rank:
                return self._value(index)
        return self._value(max(self.buckets))  # pragma: no cover - counts always reach the rank

    def histogram(self) -> list[tuple[float, float, int]]:
        """(low, high, count) per non-empty bucket, in order; zeros as (0, 0, n)."""
        gamma = math.exp(self._gamma_log)
        out = [(0.0, 0.0, self.zeros)] if self.zeros else []
        out.extend((gamma ** (i - 1), gamma ** i, self.buckets[i]) for i in sorted(self.buckets))
        return out

    def to_json(self) -> dict[str, Any]:
        indexes = sorted(self.buckets)
        return {"error": self.error, "zeros": self.zeros, "index": indexes,
                "counts": [self.buckets[i] for i in indexes]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DurationSketch:
        """The sketch ``to_json`` wrote; ``ValueError`` for anything else (then scan instead)."""
        try:
            sketch = cls(float(data["error"]))
            zeros, indexes, counts = data["zeros"], data["index"], data["counts"]
            # Checked whole-list at a time: a manifest holds thousands of buckets.
            if not (isinstance(zeros, int) and zeros >= 0 and isinstance(indexes, list) and isinstance(counts, list)
                    and len(indexes) == len(counts) and {type(i) for i in indexes} <= {int}
                    and {type(n) for n in counts} <= {int} and (not counts or min(counts) > 0)
                    and len(set(indexes)) == len(indexes)):
                raise ValueError("inconsistent sketch")
            sketch.buckets.update(dict(zip(indexes, counts, strict=True)))
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a duration sketch: {exc}") from None
        sketch.zeros = zeros
        sketch.count = zeros + sum(sketch.buckets.values())
        return sketch
