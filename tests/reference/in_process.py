"""Run a grader's checks in this process on a fake student: plain functions instead of a sandbox.

What a check decides depends only on its case draws and comparisons, so sweeping many seeds
in-process gives the same verdicts as full gradings at a fraction of the cost. The fake student
behaves like the worker where it matters: arguments are copies, results cross as plain data
(NumPy scalars become Python numbers), and an exception is the student's (StudentException).
"""

from __future__ import annotations

import copy
import inspect
import itertools
from dataclasses import dataclass

import numpy as np

from graders.core.errors import (
    CheckFailed,
    MissingName,
    NotAttempted,
    StudentException,
    SubmissionError,
)
from graders.core.judging import judge, normalise
from graders.core.rubric import Rubric
from graders.core.trusted import ComputedSide
from graders.harness.checks import CheckContext
from graders.harness.plugin import check_rng
from graders.questions import BY_ID, QUESTIONS

TRUSTED = ComputedSide({question.id: question.trusted for question in QUESTIONS if question.trusted})


class FakeStudent:
    """The sandbox's `call` and `get` over a dict of functions and values."""

    def __init__(self, names: dict, *, plain: bool = True):
        self.names = dict(names)
        self.plain = plain

    def call(self, name, *args, timeout=None, **kwargs):
        function = self._lookup(name)
        try:
            result = function(*copy.deepcopy(args), **copy.deepcopy(kwargs))
        except NotImplementedError:
            raise NotAttempted(f"`{name}(...)` raises NotImplementedError") from None
        except Exception as error:  # noqa: BLE001 - the student's exception, as the worker reports it
            raise StudentException(f"`{name}(...)` raised {type(error).__name__}: {error}") from None
        return to_plain(result) if self.plain else result

    def get(self, name, *, timeout=None):
        value = self._lookup(name)
        return to_plain(value) if self.plain else value

    def _lookup(self, name):
        if name not in self.names:
            raise MissingName(f"`{name}` is not defined")
        return self.names[name]


def to_plain(value):
    """What crosses the worker's pipe: NumPy scalars as Python numbers, containers kept, arrays kept."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return type(value)(to_plain(item) for item in value)
    if isinstance(value, dict):
        return {key: to_plain(item) for key, item in value.items()}
    return value


@dataclass(frozen=True)
class Check:
    """One rubric check of a grader module: its id, test function and parameters."""

    id: str
    function: object
    params: dict


def checks_of(module, *, needing=("student",)) -> list[Check]:
    """Every check of a grader module whose test takes all of `needing`, expanded over its parameters."""
    found = []
    for name, function in vars(module).items():
        if not name.startswith("test_") or not callable(function):
            continue
        marks = getattr(function, "pytestmark", [])
        check_marks = [mark for mark in marks if mark.name == "check"]
        if not check_marks or not set(needing) <= set(inspect.signature(function).parameters):
            continue
        grid = [[(mark.args[0], value) for value in mark.args[1]] for mark in marks if mark.name == "parametrize"]
        for combination in itertools.product(*grid):
            params = dict(combination)
            found.append(Check(check_marks[0].args[0].format(**params), function, params))
    return found


@dataclass
class Outcome:
    passed: bool
    failure: SubmissionError | None
    details: dict

    @property
    def diagnosis(self):
        return getattr(self.failure, "diagnosis", None)


def run_check(check: Check, student, seed: int, settings, *, trusted=TRUSTED, **fixtures) -> Outcome:
    """Run one check as the plugin would at `seed` (its rng stream is the run's seed and the check id):
    observe, then judge the observations as the grading would (JSON-normalised first)."""
    rng = check_rng(seed, check.id)
    context = CheckContext(id=check.id, points=1.0, hidden=False)
    available = {"student": student, "rng": rng, "settings": settings, "check": context, "trusted": trusted,
                 **fixtures, **check.params}
    wanted = inspect.signature(check.function).parameters
    try:
        check.function(**{name: value for name, value in available.items() if name in wanted})
    except SubmissionError as failure:
        return Outcome(False, failure, context.details)
    if not context.observations:
        return Outcome(True, None, context.details)
    verdict = judge(BY_ID[check.id.partition(".")[0]].judges, normalise(context.observations), settings)
    details = {**context.details, **verdict.details}
    if verdict.status == "passed":
        return Outcome(True, None, details)
    return Outcome(False, CheckFailed(verdict.message, diagnosis=verdict.diagnosis), details)


def run_checks(checks: list[Check], student, seed: int, settings, **fixtures) -> dict[str, Outcome]:
    return {check.id: run_check(check, student, seed, settings, **fixtures) for check in checks}


def catalogued_mistakes(question: str) -> list[tuple[str, object, object]]:
    """(function name, Mistake, what it computes) of every known mistake of `question` that replaces a
    contract function (its trusted module's FUNCTIONS)."""
    import importlib

    module = importlib.import_module(BY_ID[question].trusted)
    return [(function, mistake, module.FUNCTIONS[function][mistake.name])
            for function, mistakes in BY_ID[question].mistakes.items() if function in module.FUNCTIONS
            for mistake in mistakes]


def lost_checks(question: str, mistake) -> set[str]:
    """The full ids of the checks a catalogued mistake says it loses."""
    return {f"{question}.{local}" for local in mistake.loses}


def rubric_settings(question: str, settings_type, factor: float = 1.0):
    """The real rubric's settings of `question`; every float field multiplied by `factor`."""
    settings = Rubric.load().section(question, settings_type)
    if factor == 1.0:
        return settings
    return settings_type(**{key: value * factor if isinstance(value, float) else value
                            for key, value in vars(settings).items()})


def failed(outcomes: dict[str, Outcome]) -> set[str]:
    return {check_id for check_id, outcome in outcomes.items() if not outcome.passed}


def diagnoses(outcomes: dict[str, Outcome]) -> set:
    return {outcome.diagnosis for outcome in outcomes.values() if not outcome.passed}
