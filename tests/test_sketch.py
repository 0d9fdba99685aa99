"""The duration sketch keeps its promise: every percentile within 1 % of the exact nearest-rank
one, whatever the values, and merging sketches is the same as sketching everything at once."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamlit_extension.logs.timeline import percentile
from streamlit_extension.sinks.sketch import RELATIVE_ERROR, DurationSketch

QUANTILES = (1, 10, 25, 50, 75, 90, 95, 99, 99.9, 100)
durations = st.lists(st.one_of(st.just(0.0), st.floats(min_value=1e-6, max_value=1e7)), min_size=1, max_size=400)


def _within(approx: float | None, exact: float | None) -> bool:
    if exact is None or approx is None:
        return approx is exact
    return abs(approx - exact) <= RELATIVE_ERROR * exact * (1 + 1e-9)


@settings(max_examples=200, deadline=None)
@given(durations)
def test_every_percentile_is_within_the_stated_error(values):
    sketch = DurationSketch().update(values)
    ordered = sorted(values)
    for q in QUANTILES:
        assert _within(sketch.percentile(q), percentile(ordered, q)), (q, sketch.percentile(q), percentile(ordered, q))


@settings(max_examples=100, deadline=None)
@given(durations, durations)
def test_merging_equals_sketching_it_all(first, second):
    merged = DurationSketch().update(first).merge(DurationSketch().update(second))
    whole = DurationSketch().update(first + second)
    assert merged.to_json() == whole.to_json()
    assert merged.count == len(first) + len(second)


def test_a_realistic_spread_and_the_json_form():
    rng = random.Random(3)
    values = [math.exp(rng.gauss(2.0, 1.3)) for _ in range(50_000)]  # lognormal milliseconds
    sketch = DurationSketch().update(values)
    again = DurationSketch.from_json(sketch.to_json())
    ordered = sorted(values)
    for q in QUANTILES:
        assert again.percentile(q) == sketch.percentile(q)
        assert _within(sketch.percentile(q), percentile(ordered, q))
    assert len(sketch.buckets) < 1200  # bounded by the range of values, not their number
    assert DurationSketch().percentile(50) is None


@pytest.mark.parametrize("bad", [{}, {"error": 0.01, "zeros": -1, "index": [], "counts": []},
                                 {"error": 0.01, "zeros": 0, "index": [1], "counts": []},
                                 {"error": 0.01, "zeros": 0, "index": [1], "counts": [0]},
                                 {"error": 2, "zeros": 0, "index": [], "counts": []}, []])
def test_a_damaged_sketch_is_refused_not_misread(bad):
    with pytest.raises(ValueError, match=r"sketch|relative error"):
        DurationSketch.from_json(bad)
    with pytest.raises(ValueError, match="cannot merge"):
        DurationSketch(0.01).merge(DurationSketch(0.02))
