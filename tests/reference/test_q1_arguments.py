"""q1's argument coverage: every parameter of `build_model(hp)` and `make_tuner(hypermodel, directory,
project_name)` changes the verdict of some check. For each parameter the contract declares, a variant of
the reference that ignores it is graded in this process (the sweeps' ProbingStudent: the graders'
probes, seeded as the worker seeds them) and must lose at least one check the reference passes. A
parameter without a variant below fails the test by name, so a contract change cannot go unchecked.
"""

from __future__ import annotations

import ast
import os

import pytest

from graders import test_q1_tuner as q1
from graders.harness.checks import CheckContext
from graders.questions import BY_ID, signature
from tests.reference.test_sweep_q1_q3 import Q1_SETTINGS, ProbingStudent, q1_build_verdicts, verdict

pytestmark = pytest.mark.slow
SEED = 1234
_REFERENCE: dict[str, dict] = {}  # the reference's verdicts, by function: graded once for the module


def ignoring_hp(ref, kt):
    def build_model(hp):
        return ref.build_model(kt.HyperParameters())  # its own hyperparameters, at their defaults
    return {"build_model": build_model}


def ignoring_hypermodel(ref, kt):
    def make_tuner(hypermodel, directory, project_name):
        return ref.make_tuner(ref.build_model, directory, project_name)  # the global build_model instead
    return {"make_tuner": make_tuner}


def ignoring_directory(ref, kt):
    def make_tuner(hypermodel, directory, project_name):
        return ref.make_tuner(hypermodel, "tuner_runs", project_name)
    return {"make_tuner": make_tuner}


def ignoring_project_name(ref, kt):
    def make_tuner(hypermodel, directory, project_name):
        return ref.make_tuner(hypermodel, directory, "hw3_q1")
    return {"make_tuner": make_tuner}


# {(function, parameter): a variant of the reference's functions that ignores it}
VARIANTS = {("build_model", "hp"): ignoring_hp, ("make_tuner", "hypermodel"): ignoring_hypermodel,
            ("make_tuner", "directory"): ignoring_directory, ("make_tuner", "project_name"): ignoring_project_name}


def contract_parameters() -> list[tuple[str, str]]:
    """(function, parameter) of every function q1's contract names, from the contract's signatures."""
    found = []
    for entry in BY_ID["q1"].contract:
        if entry.function:
            header = ast.parse(f"def {signature(entry.name)}: pass").body[0]
            found += [(entry.name, argument.arg) for argument in header.args.args + header.args.kwonlyargs]
    return found


@pytest.fixture(scope="module")
def env():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras_tuner as kt

    from graders.core.mnist import load_mnist
    from reference import q1_tuner

    return kt, q1_tuner, load_mnist(seed=SEED)


def verdicts(functions: dict, mnist, function: str) -> dict[str, str | None]:
    """{check id: message or None} of the checks that call `function`, graded in this process."""
    if function == "build_model":
        return q1_build_verdicts(type("Module", (), {"build_model": staticmethod(functions["build_model"])}), mnist)
    student = ProbingStudent(functions, SEED)
    try:
        run = q1.tuner_run.__wrapped__(student, mnist, Q1_SETTINGS, SEED)
    except Exception as failure:  # noqa: BLE001 - a variant whose make_tuner fails loses both checks
        return {"q1.tuner.hyperband": str(failure), "q1.tuner.search": str(failure)}
    return {"q1.tuner.hyperband": verdict(q1.test_make_tuner_returns_hyperband_on_val_accuracy, tuner_run=run,
                                          check=CheckContext("q1.tuner.hyperband", 1.0, False)),
            "q1.tuner.search": verdict(q1.test_capped_search_completes, tuner_run=run,
                                       check=CheckContext("q1.tuner.search", 2.0, False))}


def test_every_parameter_of_the_contract_has_a_variant_that_ignores_it():
    assert sorted(contract_parameters()) == sorted(VARIANTS), "a parameter of q1's contract no check is shown to need"


@pytest.mark.parametrize("function, parameter", sorted(VARIANTS))
def test_ignoring_a_parameter_loses_a_check_the_reference_passes(function, parameter, env, tmp_path, monkeypatch):
    kt, ref, mnist = env
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    reference = {"build_model": ref.build_model, "make_tuner": ref.make_tuner}
    if function not in _REFERENCE:
        _REFERENCE[function] = verdicts(reference, mnist, function)
    passed = {check for check, message in _REFERENCE[function].items() if message is None}
    assert passed == set(_REFERENCE[function]), _REFERENCE[function]
    variant = verdicts({**reference, **VARIANTS[function, parameter](ref, kt)}, mnist, function)
    lost = {check: variant[check] for check in passed if variant[check] is not None}
    assert lost, f"{function}(...) ignoring {parameter!r} loses no check"
    if function == "make_tuner":
        assert parameter in " ".join(lost.values()) or "hypermodel argument" in " ".join(lost.values()), lost
