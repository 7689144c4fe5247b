"""Call a student function and the reference on the same inputs; fail with a message naming the call."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from graders.core.compare import as_int, squeeze_to
from graders.core.errors import (
    CheckFailed,
    NotAttempted,
    StudentException,
    WrongType,
    require,
)


def describe_call(name: str, params: dict) -> str:
    """`conv_output_size(size=28, kernel=5, ...)`: how a case is named in a student message."""
    return f"{name}({', '.join(f'{key}={value!r}' for key, value in params.items())})"


@dataclass(frozen=True)
class IntCase:
    """One call of an integer-valued function: what it was, the reference's answer and the student's."""

    what: str
    params: dict
    expected: int | tuple
    actual: int | tuple


def expect_same_ints(student, name: str, reference, params: dict, *, positional: int | None = None,
                     notes: list[str] | None = None) -> IntCase:
    """Check that the student's `name(**params)` returns the same integer(s) as `reference`.

    The arguments are passed positionally (students name parameters in many ways); only the
    first `positional` of them when given, so a default value is exercised. NumPy integers,
    integral floats, and a list or array for a pair are the same answer (noted in `notes`).

    Returns:
        The case, when the answer is right.

    Raises:
        SubmissionError (CheckFailed for a wrong value): with the call and the expected and actual values.
    """
    case = call_for_ints(student, name, reference, params, positional=positional, notes=notes)
    require(case.actual == case.expected, lambda: _mismatch(case))
    return case


def call_for_ints(student, name: str, reference, params: dict, *, positional: int | None = None,
                  notes: list[str] | None = None) -> IntCase:
    """The student's and the reference's answers to one call, type-checked but not compared.

    Raises:
        SubmissionError: when the call fails or its result is not an integer (a pair of them).
    """
    values = list(params.values())[:positional]
    expected = reference(*values)
    shown = dict(list(params.items())[: len(values)])
    what = describe_call(name, shown)
    try:
        raw = student.call(name, *values)
    except StudentException as error:
        if isinstance(error, NotAttempted):
            raise
        raise StudentException(f"{what}: {error}") from None  # which arguments it failed on
    kinds: list[str] = []
    if isinstance(expected, tuple):
        actual = _as_int_tuple(raw, len(expected), what=what, example=expected, notes=kinds)
    else:
        actual = as_int(raw, what=what, notes=kinds)
    for kind in kinds:
        _add(notes, f"{name} returned {kind}")
    return IntCase(what, shown, expected, actual)


def expect_cases(student, name: str, reference, cases: Sequence[dict], *, notes: list[str] | None = None,
                 diagnose: Callable[[list[IntCase]], tuple[str, str] | None] | None = None) -> None:
    """Check every case; all of them are called before judging, so a degenerate answer is seen as one.

    Args:
        cases: the keyword arguments of each call (fixed edge cases and random draws).
        notes: receives the accepted representations (see `expect_same_ints`).
        diagnose: given every case (right and wrong), returns (name, explanation) of the known
            mistake that gives the same answers, or None.

    Raises:
        CheckFailed: at the first wrong case, or once for an answer that is the same whatever the
            arguments ("returns 0 for every case"); with the known mistake when `diagnose` finds one.
        SubmissionError: when a call fails or returns something else than integers.
    """
    answered = [call_for_ints(student, name, reference, params, notes=notes) for params in cases]
    wrong = [case for case in answered if case.actual != case.expected]
    if not wrong:
        return
    if len({case.actual for case in answered}) == 1 and len({case.expected for case in answered}) > 1:
        raise CheckFailed(f"{name} returns {wrong[0].actual} for all {len(answered)} cases, whatever the arguments; "
                          f"e.g. {_mismatch(wrong[0])}")
    mistake = diagnose(answered) if diagnose else None
    if mistake is None:
        raise CheckFailed(_mismatch(wrong[0]) + _more(wrong, answered))
    raise CheckFailed(f"{_mismatch(wrong[0])}{_more(wrong, answered)}\nThis matches a known mistake: "
                      f"{mistake[0]}: {mistake[1]}.", diagnosis=mistake[0])


def _mismatch(case: IntCase) -> str:
    return f"{case.what}: expected {case.expected}, got {case.actual}"


def _more(wrong: list[IntCase], answered: list[IntCase]) -> str:
    return f" ({len(wrong)} of {len(answered)} cases are wrong)" if len(wrong) > 1 else ""


def _as_int_tuple(raw, length: int, *, what: str, example: tuple, notes: list[str]) -> tuple:
    if isinstance(raw, np.ndarray):
        items = squeeze_to(raw, (length,), notes=notes) if raw.ndim else raw
        if items.shape != (length,):
            raise WrongType(f"{what}: expected a pair like {example}, got an array of shape {raw.shape}")
        _add(notes, "an array")
    elif isinstance(raw, (tuple, list)) and len(raw) == length:
        items = raw
        if isinstance(raw, list):
            _add(notes, "a list")
    else:
        raise WrongType(f"{what}: expected a pair like {example}, got {raw!r:.80}")
    return tuple(as_int(item, what=what, notes=notes) for item in items)


def _add(notes: list[str] | None, text: str) -> None:
    if notes is not None and text not in notes:
        notes.append(text)


@dataclass(frozen=True)
class KnownMistake:
    """A wrong way to compute an integer answer: the contract function done with one thing wrong."""

    name: str
    explanation: str
    function: Callable


def diagnosis_from(mistakes: Sequence[KnownMistake]) -> Callable[[list[IntCase]], tuple[str, str] | None]:
    """A `diagnose` for `expect_cases`: the first mistake that gives every answer the student gave."""
    def diagnose(answered: list[IntCase]) -> tuple[str, str] | None:
        for mistake in mistakes:
            if all(_gives(mistake.function, case) for case in answered):
                return mistake.name, mistake.explanation
        return None

    return diagnose


def _gives(function: Callable, case: IntCase) -> bool:
    try:
        result = function(*case.params.values())
    except Exception:  # noqa: BLE001 - a mistake that cannot run on this case does not match it
        return False
    return (tuple(result) if isinstance(result, (tuple, list)) else result) == case.actual
