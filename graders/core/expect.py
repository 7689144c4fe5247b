"""Integer-valued calls (q4's parameter counts, q5's sizes): observe them case by case, then judge them.

`observe_int_cases` calls the student's function on every case and records, beside each answer,
the reference's and every known mistake's (both from the trusted side, so the student kit needs no
reference code). `int_cases_judge` decides the check from that record alone: every answer right, or
the first wrong one named, with the known mistake that gives every answer the student gave.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from graders.core.compare import as_int, squeeze_to
from graders.core.errors import CheckFailed, NotAttempted, StudentException, WrongType
from graders.core.judging import Judge


@dataclass(frozen=True)
class Mistake:
    """A known wrong way to answer, as a student is told about it (its computation is trusted code).

    `loses`: the checks (local ids or globs) that this mistake alone fails, on every seed; a test grades
    the mistake and holds it to exactly these.
    """

    name: str
    explanation: str
    loses: tuple[str, ...] = ()


def describe_call(name: str, params: Mapping) -> str:
    """`conv_output_size(size=28, kernel=5, ...)`: how a case is named in a student message."""
    return f"{name}({', '.join(f'{key}={value!r}' for key, value in params.items())})"


def observe_int_cases(student, trusted, question: str, name: str, cases: Sequence[Mapping]) -> dict:
    """Call the student's `name` on every case; record its answers, the reference's and the known mistakes'.

    Each case's arguments are passed positionally in the order given (students name parameters in many
    ways); a case that leaves out trailing arguments exercises their defaults. NumPy integers, integral
    floats, and a list or array for a pair are the same answer (recorded as representations).

    Returns:
        The observations: {"function", "cases": [{"call", "expected", "actual", "mistakes"}], "representations"}.

    Raises:
        SubmissionError: when a call fails or returns something else than an integer (a pair of them).
    """
    notes: list[str] = []
    observed = []
    for params in cases:
        expected = trusted.value(question, name, **params)
        what = describe_call(name, params)
        observed.append({"call": what, "expected": expected, "actual": _answer(student, name, params, expected,
                                                                                 what, notes),
                         "mistakes": trusted.value(question, f"mistakes.{name}", **params)})
    return {"function": name, "cases": observed, "representations": notes}


def _answer(student, name: str, params: Mapping, expected, what: str, notes: list[str]):
    try:
        raw = student.call(name, *params.values())
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
    return actual


def int_cases_judge(catalogue: Mapping[str, Sequence[Mistake]]) -> Judge:
    """The judge of every integer-case check of a question whose known mistakes are `catalogue`
    ({function name: its mistakes, in the order they are tried})."""
    def judge(observations: dict, settings, details: dict) -> None:
        if observations["representations"]:
            details["representations"] = observations["representations"]
        name, cases = observations["function"], observations["cases"]
        wrong = [case for case in cases if case["actual"] != case["expected"]]
        if not wrong:
            return
        first = _mismatch(wrong[0])
        answers = {_shown(case["actual"]) for case in cases}
        if len(answers) == 1 and len({_shown(case["expected"]) for case in cases}) > 1:
            raise CheckFailed(f"{name} returns {_shown(wrong[0]['actual'])} for all {len(cases)} cases, whatever the "
                              f"arguments; e.g. {first}")
        mistake = next((m for m in catalogue.get(name, ()) if all(
            case["mistakes"].get(m.name) == case["actual"] for case in cases)), None)
        more = f" ({len(wrong)} of {len(cases)} cases are wrong)" if len(wrong) > 1 else ""
        if mistake is None:
            raise CheckFailed(first + more)
        raise CheckFailed(f"{first}{more}\nThis matches a known mistake: {mistake.name}: {mistake.explanation}.",
                          diagnosis=mistake.name)

    return judge


def mistakes_computation(functions: Mapping[str, object]):
    """The trusted side's `mistakes.<function>` computation: given a case's arguments (in order),
    {mistake name: what it answers} (None where it cannot run)."""
    def compute(**case) -> dict:
        answers = {}
        for name, function in functions.items():
            try:
                answer = function(*case.values())
            except Exception:  # noqa: BLE001 - a mistake that cannot run on this case does not match it
                answer = None
            answers[name] = tuple(answer) if isinstance(answer, (tuple, list)) else answer
        return answers

    return compute


def _mismatch(case: dict) -> str:
    return f"{case['call']}: expected {_shown(case['expected'])}, got {_shown(case['actual'])}"


def _shown(value):
    """A pair as students write it, (1, 2): stored observations hold it as a list."""
    return tuple(value) if isinstance(value, list) else value


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
