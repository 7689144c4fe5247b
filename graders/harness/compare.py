"""The one comparison rule of the grader, and type checks for values that come back from a worker.

Rule: an actual value `a` matches an expected value `b` when, element by element,
``|a - b| <= atol + rtol * |b|`` and `a` is finite wherever `b` is. With atol = rtol = 0 this
is exact equality, which is how integer answers (shapes, parameter counts) are compared.
"""

from __future__ import annotations

import math

import numpy as np

from graders.harness.errors import CheckFailed, Unanswered, WrongType


def require_close(actual, expected, *, what: str, atol: float = 0.0, rtol: float = 0.0) -> None:
    """Fail unless `actual` matches `expected` under the rule above.

    Args:
        actual: the student's value (already type-checked: a number or a numeric array).
        expected: the reference value.
        what: names the quantity for the message, e.g. "y (training mode, 4-D input)".
        atol, rtol: the tolerances, from the rubric.

    Raises:
        CheckFailed: naming the quantity, expected and actual values and the worst element.
    """
    got = np.asarray(actual, dtype=np.float64)
    want = np.asarray(expected, dtype=np.float64)
    if got.shape != want.shape:
        raise CheckFailed(f"{what}: expected shape {want.shape}, got shape {got.shape}")
    allowed = atol + rtol * np.abs(want)
    with np.errstate(invalid="ignore"):
        excess = np.abs(got - want) - allowed
    excess = np.where(np.isnan(excess) & ~(np.isnan(got) & np.isnan(want)), np.inf, excess)
    excess = np.nan_to_num(excess, nan=-1.0)
    if not np.any(excess > 0):
        return
    if want.ndim == 0:
        raise CheckFailed(f"{what}: expected {_fmt(want.item())}, got {_fmt(got.item())}{_tolerance(atol, rtol)}")
    worst = np.unravel_index(int(np.argmax(excess)), want.shape)
    bad = int(np.count_nonzero(excess > 0))
    raise CheckFailed(
        f"{what}: {bad} of {want.size} values differ{_tolerance(atol, rtol)}; worst at index "
        f"{tuple(int(i) for i in worst)}: expected {_fmt(want[worst])}, got {_fmt(got[worst])}"
    )


def as_int(value, *, what: str) -> int:
    """Return `value` as an int when it is an integer or an integral float.

    Raises:
        Unanswered: for None (the starter's placeholder).
        WrongType: for anything else (strings, 12.5, NaN, bools).
    """
    _answered(value, what)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise WrongType(f"{what}: expected an integer, got {_kind(value)}")
    if isinstance(value, float) and not value.is_integer():
        raise WrongType(f"{what}: expected an integer, got {value!r}")
    return int(value)


def as_number(value, *, what: str) -> float:
    """Return `value` as a float; NaN and inf are allowed here and fail in `require_close`."""
    _answered(value, what)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise WrongType(f"{what}: expected a number, got {_kind(value)}")
    return float(value)


def as_array(value, *, what: str, shape: tuple | None = None) -> np.ndarray:
    """Return `value` as a float64 array, optionally requiring `shape`.

    Raises:
        WrongType: for non-numeric data, ragged lists or the wrong shape.
    """
    _answered(value, what)
    if isinstance(value, np.ndarray):
        array = value
    else:
        try:
            array = np.asarray(value)
        except ValueError:
            raise WrongType(f"{what}: expected a numeric array, got a ragged {_kind(value)}") from None
    if array.dtype.kind not in "biuf":
        raise WrongType(f"{what}: expected a numeric array, got {_kind(value)} of dtype {array.dtype}")
    if shape is not None and array.shape != tuple(shape):
        raise WrongType(f"{what}: expected an array of shape {tuple(shape)}, got shape {array.shape}")
    return array.astype(np.float64)


def _answered(value, what: str) -> None:
    if value is None:
        raise Unanswered(f"{what}: no answer yet (it is None)")


def _fmt(value) -> str:
    value = float(value)
    if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


def _tolerance(atol: float, rtol: float) -> str:
    return f" (allowed |diff| <= {atol:g} + {rtol:g}*|expected|)" if atol or rtol else ""


def _kind(value) -> str:
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    return f"a {type(value).__name__} ({value!r:.60})"
