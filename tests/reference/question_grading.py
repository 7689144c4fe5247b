"""Grade one question's checks in this process on a namespace of names: the reference, a variant of it that
ignores an argument, or a one-token mutant of it (tests/reference/test_argument_coverage.py, tests/mutation/).

The checks are observed and judged as a grading does (tests/reference/in_process.py), on fake students:
plain calls for q4-q6, and for q3 the graders' probes run here, seeded as the worker seeds them. q3's R²
checks train for a minute and are left out: the other checks see every argument of q3's functions.
"""

from __future__ import annotations

import fnmatch
import importlib
from functools import cache

from graders.core.errors import StudentException, SubmissionError
from graders.core.rubric import Rubric
from graders.questions import BY_ID
from tests.reference.in_process import TRUSTED, FakeStudent, checks_of, run_check

COSTLY = {"q3": ("q3.r2.*",)}  # checks that train: left out of in-process gradings of many variants


def contract_functions(question: str) -> dict:
    """{name: the reference's function} of the question's contract functions."""
    module = reference_module(question)
    return {entry.name: getattr(module, entry.name) for entry in BY_ID[question].contract if entry.function}


def reference_names(question: str) -> dict:
    """Every contract name of the question, as the reference defines it."""
    module = reference_module(question)
    return {entry.name: getattr(module, entry.name) for entry in BY_ID[question].contract
            if hasattr(module, entry.name)}


def reference_module(question: str):
    return importlib.import_module(f"reference.{BY_ID[question].reference}")


@cache
def _checks(question: str) -> tuple:
    module = importlib.import_module(BY_ID[question].grader_module)
    skipped = COSTLY.get(question, ())
    needing = () if question in FIXTURES else ("student",)
    return tuple(check for check in checks_of(module, needing=needing)
                 if not any(fnmatch.fnmatchcase(check.id, pattern) for pattern in skipped))


@cache
def _settings(question: str):
    return Rubric.load().section(question, BY_ID[question].settings)


def lost_checks(question: str, names: dict, seed: int, *, first_only: bool = False) -> dict[str, str]:
    """{check id: its message} of the checks `names` (a submission's namespace) fail at `seed`.

    Args:
        first_only: stop at the first failed check (enough to say a variant or a mutant loses points).
    """
    if question == "q3":
        return _q3_lost(names, seed, first_only=first_only)
    if question == "q7":
        from tests.reference.q7_grading import q7_lost

        return q7_lost(names, seed, first_only=first_only)
    student, lost = FakeStudent(names), {}
    try:
        fixtures = FIXTURES[question](student) if question in FIXTURES else {}
    except SubmissionError as failure:  # the fixture every check that needs it fails with
        return {f"{question}.table.*": str(failure)}
    for check in _checks(question):
        outcome = run_check(check, student, seed, _settings(question), **fixtures)
        if not outcome.passed:
            lost[check.id] = str(outcome.failure)
            if first_only:
                break
    return lost


def _q5_fixtures(student) -> dict:
    """The layer table's module fixtures: the network (the question's text) and the student's table."""
    from graders import test_q5_shapes as q5

    network = TRUSTED.value("q5", "network")
    return {"network": network, "student_table": q5.student_table.__wrapped__(student, network)}


FIXTURES = {"q3": None, "q5": _q5_fixtures}  # questions whose checks need module fixtures (q3's: _q3_lost)


def _q3_lost(names: dict, seed: int, *, first_only: bool) -> dict[str, str]:
    from graders import test_q3_regressor as q3
    from tests.reference.test_sweep_q1_q3 import ProbingStudent

    class Probing(ProbingStudent):
        def probe(self, module, name, **kwargs):
            try:
                return super().probe(module, name, **kwargs)
            except SubmissionError:
                raise
            except Exception as error:  # noqa: BLE001 - the student's model failed inside the probe, as the worker says
                raise StudentException(f"the probe {name} raised {type(error).__name__}: {error}") from None

    settings, student = _settings("q3"), Probing(names, seed)
    datasets = q3.datasets.__wrapped__(seed, settings)
    try:
        preprocessed = q3.preprocessed.__wrapped__(student, datasets)
    except SubmissionError as failure:
        return {"q3.preprocess.*": str(failure)}
    lost = {}
    for check in _checks("q3"):
        outcome = run_check(check, student, seed, settings, datasets=datasets, preprocessed=preprocessed)
        if not outcome.passed:
            lost[check.id] = str(outcome.failure)
            if first_only:
                break
    return lost
