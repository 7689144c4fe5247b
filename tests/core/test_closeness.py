"""The excess frontier decides as the whole arrays do, under any tolerance (graders/core/closeness.py)."""

import math

import numpy as np
import pytest

from graders.core import closeness
from graders.core.errors import CheckFailed


def full_excess(actual, expected, atol, rtol) -> float:
    """The largest excess over every element, as compare.require_close computes it."""
    allowed = atol + rtol * np.abs(expected)
    with np.errstate(invalid="ignore"):
        excess = (np.abs(actual - expected) - allowed) / allowed
    both_nan = np.isnan(actual) & np.isnan(expected)
    return float(np.max(np.where(both_nan, 0.0, np.where(np.isnan(excess), np.inf, excess)), initial=0.0))


@pytest.mark.parametrize("seed", range(40))
def test_the_frontier_gives_the_largest_excess_of_the_whole_arrays(seed):
    rng = np.random.default_rng(seed)
    expected = rng.normal(0.0, 10.0 ** rng.uniform(-3, 4), size=(int(rng.integers(1, 60)), 3))
    actual = expected + rng.normal(0.0, 10.0 ** rng.uniform(-8, 0), size=expected.shape)
    if seed % 4 == 0:
        actual.flat[0] = np.nan
    if seed % 8 == 0:
        expected.flat[0] = np.nan  # both NaN: a match
    points = closeness.frontier(actual, expected)
    assert len(points) <= actual.size
    for atol, rtol in [(1e-6, 1e-6), (3e-4, 3e-4), (1e-2, 0.0), (0.0, 1e-3), (10.0, 1.0)]:
        largest = full_excess(actual, expected, atol, rtol)
        assert closeness.matches(points, atol, rtol) == (largest <= 0)
        assert closeness.distance(points, atol, rtol, shape_mismatch=50.0) == pytest.approx(
            math.log1p(max(largest, 0.0)), rel=1e-12)


def test_different_shapes_have_no_frontier_and_the_mismatch_distance():
    assert closeness.frontier(np.zeros(3), np.zeros((3, 1))) is None
    assert closeness.distance(None, 1e-6, 1e-6, shape_mismatch=50.0) == 50.0
    assert not closeness.matches(None, 1.0, 1.0)


def test_a_summary_names_the_worst_element_and_how_many_values_differ():
    expected = np.arange(12.0).reshape(3, 4)
    actual = expected.copy()
    actual[1, 2] += 0.5
    actual[2, 3] += 1e-9
    stored = closeness.summary(actual, expected)
    closeness.require_close_summary(stored, what="X", atol=1.0, rtol=0.0)  # within tolerance: no failure
    with pytest.raises(CheckFailed, match=r"X: 2 of 12 values differ; the worst, at index \(1, 2\), .* expected 6, "
                                          r"got 6.5"):
        closeness.require_close_summary(stored, what="X", atol=1e-6, rtol=1e-6)
    with pytest.raises(CheckFailed, match="expected shape"):
        closeness.require_close_summary(closeness.summary(actual, expected.T), what="X", atol=1.0, rtol=1.0)
