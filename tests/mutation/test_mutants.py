"""Mutation testing: every one-token mutant of a solution region of reference/ loses a check, or is listed as
equivalent with the reason (tests/mutation/equivalent.py).

Each mutant (tests/mutation/mutator.py) is loaded as a module of its own and graded in this process on
its question's checks (tests/reference/question_grading.py: observed and judged as a grading does, no
sandbox): at the public seed, and where it survives there at two more. The trusted side keeps the
unmutated reference. q3: only `preprocess` (its model is judged by training, a minute per mutant); q7: only
`grad_cam`, on the heatmap checks (tests/reference/q7_grading.py; `build_mnist_cnn` is judged by training, and
q1 is all training: neither is mutated).
Prints per question: mutants killed / equivalent / total.
"""

from __future__ import annotations

import signal
import sys
import types

import pytest

from graders.core.paths import REFERENCE_DIR
from graders.questions import BY_ID
from tests.mutation.equivalent import EQUIVALENT
from tests.mutation.mutator import Mutant, mutants
from tests.reference.question_grading import lost_checks

pytestmark = pytest.mark.slow

QUESTIONS = {"q3": ("preprocess",), "q4": (), "q5": (), "q6": (), "q7": ("grad_cam",)}  # question: its functions mutated (all: ())
SEEDS = (1234, 3, 2**63 + 12345)
MUTANT_TIMEOUT_S = 30  # a mutant that runs longer is killed, as a call's timeout would fail its check


def load(mutant: Mutant) -> dict:
    """The mutant's contract names, from its source executed as a module of its own (sys.modules keeps it
    only while it loads, for dataclasses). Raises what the module raises while it loads."""
    module = types.ModuleType(f"mutant_{mutant.module}")
    sys.modules[module.__name__] = module
    try:
        exec(compile(mutant.source, f"<mutant of reference/{mutant.module}.py>", "exec"), module.__dict__)  # noqa: S102
    finally:
        del sys.modules[module.__name__]
    question = next(q for q in BY_ID.values() if q.reference == mutant.module)
    return {entry.name: getattr(module, entry.name) for entry in question.contract if hasattr(module, entry.name)}


def fate(question: str, mutant: Mutant) -> str:
    """"killed at seed N: <check>" or "survived"."""
    def timeout(signum, frame):
        raise TimeoutError(f"ran over {MUTANT_TIMEOUT_S} s")

    previous = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(MUTANT_TIMEOUT_S)
    try:
        names = load(mutant)
        for seed in SEEDS:
            lost = lost_checks(question, names, seed, first_only=True)
            if lost:
                return f"killed at seed {seed}: {next(iter(lost))}"
        return "survived"
    except Exception as error:  # noqa: BLE001 - a mutant that cannot load or run fails every check it reaches
        return f"killed: {type(error).__name__}"
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # mutants take square roots of negative numbers
@pytest.mark.parametrize("question", sorted(QUESTIONS))
def test_every_mutant_is_killed_or_listed_as_equivalent(question):
    path = REFERENCE_DIR / f"{BY_ID[question].reference}.py"
    found = mutants(path, functions=QUESTIONS[question])
    fates = {mutant.name: fate(question, mutant) for mutant in found}
    equivalent = EQUIVALENT.get(question, {})
    survivors = {name for name, outcome in fates.items() if outcome == "survived"}
    late = sorted(name for name, outcome in fates.items() if outcome.startswith("killed at seed") and
                  not outcome.startswith(f"killed at seed {SEEDS[0]}:"))
    print(f"{question}: {len(fates) - len(survivors)} killed / {len(survivors & set(equivalent))} equivalent / "
          f"{len(fates)} mutants" + (f"; killed only at another seed than {SEEDS[0]}: {late}" if late else ""))
    assert survivors - set(equivalent) == set(), "mutants that no check kills:\n" + "\n".join(
        sorted(survivors - set(equivalent)))
    stale = set(equivalent) - survivors
    assert not stale, "listed as equivalent but killed, or no longer generated:\n" + "\n".join(sorted(stale))
    assert all(reason.strip() for reason in equivalent.values())
