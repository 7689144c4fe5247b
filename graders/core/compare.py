"""The one comparison rule of the grader, and type checks for values that come back from a worker.

Rule: an actual value `a` matches an expected value `b` when, element by element,
``|a - b| <= atol + rtol * |b|`` and `a` is finite wherever `b` is. With atol = rtol = 0 this
is exact equality, which is how integer answers (shapes, parameter counts) are compared.

Equivalent representations are the same answer (../shared/DESIGN.md): NumPy scalars and
one-element arrays for a number, lists and tuples for an array, extra singleton dimensions
(statistics kept with ``keepdims=True``), float32 values. The type checks accept them and, given
a `notes` list, say which one they accepted, so a check can show it without failing for it.
"""

from __future__ import annotations

import math

import numpy as np

from graders.core.errors import CheckFailed, Unanswered, WrongType


def require_close(actual, expected, *, what: str, atol: float = 0.0, rtol: float = 0.0) -> None:
    """Fail unless `actual` matches `expected` under the rule above.

    Args:
        actual: the student's value (already type-checked: a number or a numeric array).
        expected: the reference value.
        what: names the quantity for the message, e.g. "y (training mode, 4-D input)".
        atol, rtol: the tolerances, from the rubric.

    Raises:
        CheckFailed: naming the quantity, expected and actual values and the worst element; a
            constant or all-zero answer where the expected values vary is said to be one.
    """
    got = _float_array(actual)
    want = _float_array(expected)
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
    degenerate = degenerate_answer(got, want)
    raise CheckFailed(
        f"{what}: {bad} of {want.size} values differ{_tolerance(atol, rtol)}; worst at index "
        f"{tuple(int(i) for i in worst)}: expected {_fmt(want[worst])}, got {_fmt(got[worst])}"
        + (f" ({degenerate})" if degenerate else "")
    )


def degenerate_answer(actual, expected) -> str | None:
    """Say so when `actual` is all zero or one constant while `expected` is neither.

    Such an answer (a placeholder, an output that ignores the input) can only match by accident;
    a check that cannot tell otherwise must refuse it with this sentence.

    Returns:
        "every value is 0" / "every value is 2.5", or None when `actual` varies like an answer.
    """
    got, want = _float_array(actual), _float_array(expected)
    if got.size < 2 or not np.all(np.isfinite(got)) or _constant(want):
        return None
    if not _constant(got):
        return None
    value = got.flat[0]
    return "every value is 0" if value == 0 else f"every value is {_fmt(value)}"


def _constant(values: np.ndarray) -> bool:
    flat = values.ravel()
    return bool(flat.size) and bool(np.all(flat == flat[0]))


def as_int(value, *, what: str, notes: list[str] | None = None) -> int:
    """Return `value` as an int when it is an integer or an integral float.

    NumPy integers and floats, and one-element arrays or lists, are the same answer (noted).

    Args:
        notes: where to add a short phrase naming an accepted non-plain representation.

    Raises:
        Unanswered: for None (the starter's placeholder).
        WrongType: for anything else (strings, 12.5, NaN, bools, arrays of several values).
    """
    _answered(value, what)
    number = _single_number(value, what, notes)
    if isinstance(number, (bool, np.bool_)) or not isinstance(number, (int, float, np.integer, np.floating)):
        raise WrongType(f"{what}: expected an integer, got {_kind(value)}")
    if isinstance(number, (float, np.floating)):
        if not float(number).is_integer():
            raise WrongType(f"{what}: expected an integer, got {number!r}")
        _note(notes, "an integral float")
    elif isinstance(number, np.integer):
        _note(notes, "a NumPy integer")
    return int(number)


def as_number(value, *, what: str, notes: list[str] | None = None) -> float:
    """Return `value` as a float; NaN and inf are allowed here and fail in `require_close`.

    NumPy scalars and one-element arrays or lists are the same answer (noted in `notes`).
    """
    _answered(value, what)
    number = _single_number(value, what, notes)
    if isinstance(number, (bool, np.bool_)) or not isinstance(number, (int, float, np.integer, np.floating)):
        raise WrongType(f"{what}: expected a number, got {_kind(value)}")
    if isinstance(number, np.generic):
        _note(notes, "a NumPy number")
    return _float(number)


def _float(number) -> float:
    """float(number), with an integer too large for a float as +-inf (a wrong answer, not a grader error)."""
    try:
        return float(number)
    except OverflowError:
        return math.inf if number > 0 else -math.inf


def _float_array(value) -> np.ndarray:
    """`value` as a float64 array; integers too large for a float become +-inf (see `_float`)."""
    try:
        return np.asarray(value, dtype=np.float64)
    except OverflowError:
        return np.vectorize(_float, otypes=[np.float64])(np.asarray(value, dtype=object))


def _single_number(value, what: str, notes):
    """The one number in a NumPy array or list of one element; anything else unchanged."""
    if isinstance(value, np.ndarray) or (isinstance(value, (list, tuple)) and len(value) == 1):
        array = as_array(value, what=what)
        if array.size != 1:
            raise WrongType(f"{what}: expected one number, got {_kind(value)}")
        _note(notes, f"a one-element {'array' if isinstance(value, np.ndarray) else type(value).__name__}")
        original = np.asarray(value)
        return original.reshape(()).item() if original.dtype.kind in "biu" else float(array.reshape(()))
    return value


def as_array(value, *, what: str, shape: tuple | None = None, notes: list[str] | None = None) -> np.ndarray:
    """Return `value` as a float64 array, optionally of `shape`.

    Lists, tuples, NumPy scalars and float32 values are accepted as they are; with `shape`, extra
    singleton dimensions are dropped (see `squeeze_to`). Each such representation is noted.

    Raises:
        WrongType: for non-numeric data, ragged lists or a shape that is not `shape`.
    """
    _answered(value, what)
    if isinstance(value, np.ndarray):
        array = value
    else:
        try:
            array = np.asarray(value)
        except ValueError:
            raise WrongType(f"{what}: expected a numeric array, got a ragged {_kind(value)}") from None
        if isinstance(value, (list, tuple)):
            _note(notes, f"a {type(value).__name__}")
    if array.dtype.kind == "O" and array.size and all(type(item) is int for item in array.flat):
        array = _float_array(array)  # integers too large for int64: +-inf, compared as numbers
    if array.dtype.kind not in "biuf":
        raise WrongType(f"{what}: expected a numeric array, got {_kind(value)} of dtype {array.dtype}")
    if array.dtype.kind == "f" and array.dtype.itemsize < 8:
        _note(notes, f"{array.dtype} values")
    array = array.astype(np.float64)
    if shape is not None:
        array = squeeze_to(array, shape, notes=notes)
        if array.shape != tuple(shape):
            raise WrongType(f"{what}: expected an array of shape {tuple(shape)}, got shape {array.shape}")
    return array


def squeeze_to(array: np.ndarray, shape: tuple, *, notes: list[str] | None = None) -> np.ndarray:
    """`array` reshaped to `shape` when they differ only by extra singleton dimensions, else unchanged.

    `(1, C)` and `(1, 1, 1, C)` (statistics kept with keepdims=True) become `(C,)`; `(C, D)` never
    becomes `(D, C)`, and a missing dimension is never added.
    """
    shape = tuple(shape)
    if array.shape == shape or array.ndim <= len(shape):
        return array
    if [size for size in array.shape if size != 1] != [size for size in shape if size != 1]:
        return array
    _note(notes, f"shape {array.shape} read as {shape}")
    return array.reshape(shape)


def _note(notes: list[str] | None, text: str) -> None:
    if notes is not None and text not in notes:
        notes.append(text)


def _answered(value, what: str) -> None:
    if value is None:
        raise Unanswered(f"{what}: no answer yet (it is None)")


def _fmt(value) -> str:
    value = _float(value)
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
    try:
        text = repr(value)
    except ValueError:  # an int too long to print (Python refuses over 4,300 digits)
        text = "..."
    return f"a {type(value).__name__} ({text:.60})"
