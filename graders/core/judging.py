"""Observe, then judge: what a check measured, and the decision taken from it and the rubric alone.

A grader test *observes*: it calls the student's code (in the sandbox) and the trusted side on the
seed's cases, and records what it saw as plain data with `CheckContext.observe(judge, **values)`.
A *judge*, a pure function of those observations and the question's rubric settings, decides the
check: it returns when the check passes, raises `CheckFailed` (through `require`) when it fails,
and may fill `details` for the report. Judges read nothing else, so `hw3grade rescore` judges
stored observations again under a changed rubric without running any student code, and gets what
a fresh grading under that rubric would get.

An observation that ended in a `SubmissionError` (a crash, a timeout, a wrong type, a missing name)
is recorded as `{"error": {...}}` and judged as that failure whatever the rubric says.

Observations are stored in the results JSON, so they are normalised once (`normalise`): tuples
become lists, NumPy scalars Python numbers, arrays a tagged base64 form, non-finite floats a tagged
string; a judge always sees them decoded (`decode`), at grading time as at rescoring time.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from graders.core.errors import HarnessError, SubmissionError
from graders.core.results import FAILED, PASSED

ERROR = "error"  # the observation of a check whose observing ended in a SubmissionError
JUDGE = "judge"  # the name of the judge that decides the check
_ARRAY, _FLOAT = "__ndarray__", "__float__"

Judge = Callable[[dict, object, dict], None]  # (observations, settings, details) -> None, or raises CheckFailed


@dataclass(frozen=True)
class Verdict:
    """A judged check: its status, message, the known mistake it matches and the report's extras."""

    status: str  # PASSED or FAILED
    message: str = ""
    diagnosis: str | None = None
    cause: str = ""  # the SubmissionError class behind a failure ("CheckFailed", "CallTimeout", ...)
    category: str = ""  # how the failure counts (errors.SubmissionError.category); the status when empty
    details: dict = field(default_factory=dict)


class Judges:
    """The judges of one question, by name: `@JUDGES("int_cases") def int_cases(obs, settings, details): ...`."""

    def __init__(self, question: str) -> None:
        self.question = question
        self._by_name: dict[str, Judge] = {}

    def __call__(self, name: str) -> Callable[[Judge], Judge]:
        def register(function: Judge) -> Judge:
            if name in self._by_name:
                raise HarnessError(f"{self.question}: two judges named {name!r}")
            self._by_name[name] = function
            return function

        return register

    def names(self) -> list[str]:
        return sorted(self._by_name)

    def get(self, name: str) -> Judge:
        """The judge `name`.

        Raises:
            HarnessError: when the question has no judge of that name.
        """
        try:
            return self._by_name[name]
        except KeyError:
            raise HarnessError(f"{self.question} has no judge {name!r} (judges: {self.names()})") from None


def error_observation(error: SubmissionError) -> dict:
    """How a SubmissionError raised while observing is recorded."""
    return {ERROR: {"cause": type(error).__name__, "category": error.category, "message": str(error),
                    "diagnosis": getattr(error, "diagnosis", None)}}


def judge(judges: Judges, observations: dict, settings) -> Verdict:
    """Decide a check from its (normalised) observations and its question's settings.

    Raises:
        HarnessError: an observation without a judge, or a judge that is not the question's; anything
            else a judge raises but a SubmissionError propagates (a bug of the grader).
    """
    error = observations.get(ERROR)
    if error is not None:
        return Verdict(FAILED, str(error.get("message", "")), error.get("diagnosis"), str(error.get("cause", "")),
                       str(error.get("category", "")) or FAILED)
    name = observations.get(JUDGE)
    if not name:
        raise HarnessError("a check recorded observations without naming its judge")
    details: dict = {}
    try:
        judges.get(name)(decode(observations), settings, details)
    except SubmissionError as failure:
        return Verdict(FAILED, str(failure), getattr(failure, "diagnosis", None), type(failure).__name__,
                       failure.category, details)
    return Verdict(PASSED, details=details)


# -- plain data ----------------------------------------------------------------------------

def normalise(value):
    """`value` as the results JSON stores it (see the module's docstring).

    Raises:
        HarnessError: for a value that is not plain data (an object, a set, bytes).
    """
    if isinstance(value, dict):
        return {str(key): normalise(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [normalise(item) for item in value]
    if isinstance(value, np.ndarray):
        array = np.ascontiguousarray(value)
        if array.dtype.kind not in "biuf":
            raise HarnessError(f"an observation holds an array of dtype {array.dtype}")
        return {_ARRAY: base64.b64encode(array.tobytes()).decode("ascii"), "dtype": array.dtype.str,
                "shape": list(array.shape)}
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return number if math.isfinite(number) else {_FLOAT: repr(number)}
    if value is None or isinstance(value, str):
        return value
    raise HarnessError(f"an observation holds a {type(value).__name__}, not plain data")


def decode(value):
    """The inverse of `normalise` for what a judge reads: tagged arrays and floats back to values."""
    if isinstance(value, dict):
        if _ARRAY in value:
            data = base64.b64decode(value[_ARRAY])
            return np.frombuffer(data, dtype=np.dtype(value["dtype"])).reshape(value["shape"]).copy()
        if _FLOAT in value:
            return float(value[_FLOAT])
        return {key: decode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decode(item) for item in value]
    return value
