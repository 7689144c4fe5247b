"""Every parameter of a contract function, and every default, changes some check's verdict on every seed.

Derived from the contract: for each question below, its contract functions (the graders.questions
registry) and their signatures in reference/. For each parameter, variants of the reference are graded
in-process on the question's checks (tests/reference/question_grading.py):
- the parameter ignored: its default where it has one, else each boolean for a flag, an array of ones
  of the same shape for an array, else the first value the grading passes, whatever is passed;
- for a parameter with a default, another default (a flag negated, a number moved, another padding).
Each variant must lose at least one check on every seed of SEEDS; the test names every parameter of
which a variant loses nothing. (q1 and q7 join as their graders are converted.)
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import numpy as np
import pytest

from tests.reference.question_grading import contract_functions, lost_checks, reference_names

# q4-q6: ~2 s of plain calls; q3 builds Keras models (~15 s): slow.
QUESTIONS = (pytest.param("q3", marks=pytest.mark.slow), "q4", "q5", "q6")
SEEDS = (1234, 3, 2**63 + 12345)  # the public seed, another, and one of the 64-bit kind a hidden run draws
OTHER_STRINGS = {"valid": "same", "same": "valid"}


@dataclass(frozen=True)
class Variant:
    """The reference's `function` with one thing about `parameter` changed."""

    question: str
    function: str
    parameter: str
    change: str  # what the variant does, for the report

    def __str__(self) -> str:
        return f"{self.question} {self.function}({self.parameter}): {self.change}"


def other_default(value):
    """Another default than `value`: what a student who misremembers it might write."""
    if isinstance(value, bool):
        return not value
    if value is None:
        return 1
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return 1.0 - 10.0 * (1.0 - value) if 0.5 < value < 1.0 else value / 100.0
    return OTHER_STRINGS[value]


def _seen_values(question: str) -> dict[tuple[str, str], list]:
    """{(function, parameter): the values a grading at the public seed passes}: what a flag, an array or any
    other value is, read from the calls themselves."""
    seen: dict[tuple[str, str], list] = {}
    names = reference_names(question)
    for name, function in contract_functions(question).items():
        signature = inspect.signature(function)

        def recording(*args, __name=name, __function=function, __signature=signature, **kwargs):
            bound = __signature.bind(*args, **kwargs)
            for parameter, value in bound.arguments.items():
                seen.setdefault((__name, parameter), []).append(value)
            return __function(*args, **kwargs)

        names[name] = recording
    lost_checks(question, names, SEEDS[0])
    return seen


def variants(question: str) -> list[tuple[Variant, object]]:
    """Every variant of the question's contract functions: (what it is, a factory of a fresh function)."""
    seen = _seen_values(question)
    found = []
    for name, function in contract_functions(question).items():
        for parameter in inspect.signature(function).parameters.values():
            values = seen.get((name, parameter.name), [])
            for change, fixed in _fixings(parameter, values):
                found.append((Variant(question, name, parameter.name, change),
                              lambda function=function, parameter=parameter.name, fixed=fixed:
                              ignoring(function, parameter, fixed())))
            if parameter.default is not inspect.Parameter.empty:
                default = other_default(parameter.default)
                found.append((Variant(question, name, parameter.name, f"default {default!r}"),
                              lambda function=function, parameter=parameter.name, default=default:
                              defaulting(function, parameter, default)))
    return found


def _fixings(parameter: inspect.Parameter, values: list):
    """(change, factory of `fixed(value) -> the value used`) for the ways to ignore `parameter`."""
    if parameter.default is not inspect.Parameter.empty:
        yield f"ignored (always its default {parameter.default!r})", lambda: (lambda value: parameter.default)
    elif values and all(isinstance(value, bool) for value in values):
        yield "ignored (always True)", lambda: (lambda value: True)
        yield "ignored (always False)", lambda: (lambda value: False)
    elif values and all(isinstance(value, np.ndarray) for value in values):
        yield "ignored (an array of ones)", lambda: (lambda value: np.ones_like(value))
    else:
        yield "ignored (always the first value passed)", _frozen


def _frozen():
    """`fixed(value)` that keeps the first value it is given."""
    first = []

    def fixed(value):
        if not first:
            first.append(value)
        return first[0]

    return fixed


def ignoring(function, parameter: str, fixed):
    signature = inspect.signature(function)

    def variant(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        bound.arguments[parameter] = fixed(bound.arguments[parameter])
        return function(*bound.args, **bound.kwargs)

    return variant


def defaulting(function, parameter: str, default):
    signature = inspect.signature(function)

    def variant(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.arguments.setdefault(parameter, default)
        return function(*bound.args, **bound.kwargs)

    return variant


def uncovered(question: str, found=None) -> tuple[list[str], int]:
    """The variants (default: `variants(question)`) that lose no check on some seed (named with the seed),
    and how many were graded."""
    misses, graded = [], 0
    for variant, make in variants(question) if found is None else found:
        graded += 1
        for seed in SEEDS:
            names = {**reference_names(question), variant.function: make()}
            if not lost_checks(question, names, seed, first_only=True):
                misses.append(f"{variant} loses no check at seed {seed}")
                break
    return misses, graded


@pytest.mark.parametrize("question", QUESTIONS)
def test_every_parameter_and_default_changes_a_verdict_on_every_seed(question):
    misses, graded = uncovered(question)
    print(f"{question}: {graded - len(misses)} of {graded} variants lose points on every seed")
    assert not misses, "parameters no check sees:\n" + "\n".join(misses)


@pytest.mark.parametrize("question", QUESTIONS)
def test_the_reference_itself_loses_nothing_in_these_gradings(question):
    """The gradings above are fair: the unchanged reference loses no check on any seed."""
    for seed in SEEDS:
        assert lost_checks(question, reference_names(question), seed) == {}, seed


def test_a_variant_that_changes_nothing_is_named():
    """The test can fail: a "variant" that passes the argument through is reported, with its seed."""
    function = contract_functions("q6")["batchnorm_forward"]
    no_op = Variant("q6", "batchnorm_forward", "x", "passed through")
    misses, graded = uncovered("q6", [(no_op, lambda: ignoring(function, "x", lambda value: value))])
    assert (misses, graded) == (["q6 batchnorm_forward(x): passed through loses no check at seed 1234"], 1)
