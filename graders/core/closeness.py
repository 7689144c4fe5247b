"""How far one array is from another under any tolerance, kept in a few numbers: the excess frontier.

The comparison rule (graders/core/compare.py) passes an element when ``|a - b| <= atol + rtol * |b|``.
Its excess, ``(|a - b| - atol - rtol * |b|) / (atol + rtol * |b|)``, grows with the difference d = |a - b|
and falls with the magnitude m = |b|, so for every atol, rtol >= 0 the largest excess over an array is
reached on an element that no other element beats on both counts (a larger or equal d with a smaller or
equal m). Those elements, the *frontier*, are few (a handful for random data), so a check can store them
instead of whole arrays and its judge still decides exactly under any tolerance a rescore brings
(graders/core/judging.py): whether the arrays match, how far apart they are, and the worst element.

NaN: an element where both are NaN matches; where one only is, it is infinitely far (d = inf).
"""

from __future__ import annotations

import math

import numpy as np

from graders.core.errors import CheckFailed

# Columns of a frontier: the difference, the expected magnitude, the element's flat index, both values.
D, M, INDEX, ACTUAL, EXPECTED = range(5)


def frontier(actual, expected) -> np.ndarray | None:
    """The elements of `actual` vs `expected` that can be the worst under some tolerance.

    Returns:
        A float64 array of rows (d, m, flat index, actual, expected), smallest m first; None when the
        shapes differ (no element-wise comparison exists).
    """
    got, want = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if got.shape != want.shape:
        return None
    got, want = got.ravel(), want.ravel()
    with np.errstate(invalid="ignore"):
        d = np.abs(got - want)
    both_nan = np.isnan(got) & np.isnan(want)
    d = np.where(both_nan, 0.0, np.where(np.isnan(d), np.inf, d))
    m = np.nan_to_num(np.abs(want), nan=0.0, posinf=np.inf)
    index = np.arange(d.size)
    order = np.lexsort((index, -d, m))  # by m ascending, then d descending, then index
    d_sorted = d[order]
    before = np.maximum.accumulate(np.r_[-np.inf, d_sorted[:-1]]) if d.size else d_sorted
    kept = order[d_sorted > before]
    return np.stack([d[kept], m[kept], index[kept].astype(np.float64), got[kept], want[kept]], axis=1)


def excess(points: np.ndarray, atol: float, rtol: float) -> np.ndarray:
    """Each frontier point's excess over the tolerance (> 0: outside it); `points` may keep (d, m) only."""
    points = np.asarray(points, dtype=np.float64)
    points = points.reshape(-1, points.shape[-1] if points.ndim == 2 else 5)
    allowed = atol + rtol * points[:, M]
    with np.errstate(divide="ignore", invalid="ignore"):
        value = (points[:, D] - allowed) / allowed
    return np.where(np.isnan(value), np.where(points[:, D] > 0, np.inf, 0.0), value)


def matches(points: np.ndarray | None, atol: float, rtol: float) -> bool:
    """Whether the two arrays the frontier was taken of match under (atol, rtol)."""
    return points is not None and not np.any(excess(points, atol, rtol) > 0)


def distance(points: np.ndarray | None, atol: float, rtol: float, *, shape_mismatch: float) -> float:
    """log(1 + the largest excess), 0 within the tolerance; `shape_mismatch` for arrays of different shapes."""
    if points is None:
        return shape_mismatch
    largest = float(np.max(excess(points, atol, rtol), initial=0.0))
    return math.log1p(max(largest, 0.0))


def summary(actual, expected) -> dict:
    """A comparison stored compactly: the shapes, how many elements differ at all, and the frontier."""
    got, want = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    points = frontier(got, want)
    changed = 0 if points is None else int(np.count_nonzero(~((got == want) | (np.isnan(got) & np.isnan(want)))))
    return {"shape": list(got.shape), "expected_shape": list(want.shape), "changed": changed,
            "frontier": points}


def require_close_summary(stored: dict, *, what: str, atol: float, rtol: float) -> None:
    """`compare.require_close` decided from a `summary`: fail unless every element is within tolerance.

    Raises:
        CheckFailed: naming the quantity, how many values differ at all, and the worst element.
    """
    shape, expected_shape = tuple(stored["shape"]), tuple(stored["expected_shape"])
    points = stored["frontier"]
    if points is None:
        raise CheckFailed(f"{what}: expected shape {expected_shape}, got shape {shape}")
    points = np.asarray(points, dtype=np.float64).reshape(-1, 5)
    over = excess(points, atol, rtol)
    if not np.any(over > 0):
        return
    worst = points[int(np.argmax(over))]
    where = tuple(int(i) for i in np.unravel_index(int(worst[INDEX]), expected_shape)) if expected_shape else ()
    size = int(np.prod(expected_shape)) if expected_shape else 1
    raise CheckFailed(f"{what}: {stored['changed']} of {size} values differ; the worst, at index {where}, is "
                      f"beyond the allowed |diff| <= {atol:g} + {rtol:g}*|expected|: expected "
                      f"{_fmt(worst[EXPECTED])}, got {_fmt(worst[ACTUAL])}")


def _fmt(value) -> str:
    value = float(value)
    if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"
