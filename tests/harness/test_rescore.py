"""Observations, then judgement: a stored result judged again under a changed rubric is what a fresh
grading under that rubric gives; a change that needs new observations is refused with its checks."""

import copy
import json

import pytest

from graders.core.judging import decode, normalise
from graders.core.results import from_json
from graders.core.rubric import Rubric
from graders.harness.judgement import observation_changes, rejudge
from tests.grading import load_golden, run_grader, sample_path, write_rubric

# A TA's edits that need no new observation: points, a check hidden, thresholds and tolerances. Each
# question's converted grader adds its judged settings here.
JUDGED_CHANGES = {'"conv.valid"': 3, '"gru.reset_after"': "{ points = 2, hidden = true }", "dense": 0.5,
                  '"table.layer*"': 2,
                  # q1: the reference's budgeted training (0.85-0.90) fails a threshold of 0.95
                  "budget_threshold": 0.95, "probability_atol": 1e-4, "learning_rate_rtol": 1e-4,
                  "chance_accuracy": 0.2, "retrain_margin": 0.3, "retrain_floor": 0.25, '"train.budget"': 3,
                  # q3: the reference's Friedman R² (0.95-0.98) fails 0.99; a leaking scaler (X_train moves by
                  # about 2) passes a tolerance of 10; every scaled feature passes a ratio of 5.
                  "r2_min_friedman": 0.99, "leakage_atol": 10, "max_std_ratio": 5,
                  # q6: epsilon folded into the moving variance ((1 - 0.99) * 1e-3 off) passes 1e-4; y looser.
                  "atol_moving": 1e-4, "atol": 1e-3, "rtol_float32": 2e-4}
# q7: a threshold every class_sensitivity fails, one no CNN reaches, one every upsampled map is too low for.
JUDGED_CHANGES.update({"class_margin": -1.0, "cnn_min_accuracy": 0.999, "upsampled_peak_range": "[1.5, 1.6]",
                       '"heatmap.layer_name"': 3})
# One sample per question at least, each graded on its golden questions.
SAMPLES = ["reference", "typical_mistakes", "q4_q5_numpy_and_lists", "placeholder_answers", "scaler_fit_on_test",
           "bn_epsilon_in_moving_variance", "gradcam_batch_axis_upsampled", "q1_global_average_pooling_head"]


def comparable(result) -> dict:
    """What a rescore must reproduce of a grading: every check's verdict and the totals."""
    return {"score": result.score, "max_score": result.max_score,
            "checks": {check.id: (check.status, check.category, check.score, check.max_score, check.message,
                                  check.cause, json.dumps(check.judged, sort_keys=True, default=str))
                       for question in result.questions for check in question.checks}}


@pytest.mark.slow
@pytest.mark.parametrize("sample", SAMPLES)
def test_a_rescore_under_a_changed_rubric_is_a_fresh_grading_under_it(sample, tmp_path):
    goldens, _ = load_golden(sample)
    questions = sorted(goldens)
    before, _ = run_grader(sample_path(sample), tmp_path / "before", questions=questions)
    changed = write_rubric(tmp_path / "changed.toml", JUDGED_CHANGES)
    fresh, _ = run_grader(sample_path(sample), tmp_path / "fresh", questions=questions, rubric=str(changed))
    rubric = Rubric.load(changed)
    stored = from_json(before)
    assert observation_changes(stored, rubric) == {}
    assert comparable(rejudge(stored, rubric)) == comparable(from_json(fresh))
    # Back to the default rubric: the check the changed one hid was never observed, so it must run again.
    hidden_then = {"q4.gru.reset_after"} if "q4" in questions else set()
    assert set(observation_changes(from_json(fresh), Rubric.load())) == hidden_then


def test_a_change_of_what_checks_observe_is_refused_with_the_checks_it_affects(tmp_path):
    stored = from_json({"submission": "s", "seed": 1234, "hidden": False, "isolation": "process",
                        "rubric": {"data": Rubric.load().data},
                        "questions": [{"id": "q5", "checks": [
                            {"id": "q5.conv.valid", "status": "passed", "score": 1, "max_score": 1},
                            {"id": "q5.table.layer1", "status": "passed", "score": 1, "max_score": 1}]}]})
    data = copy.deepcopy(Rubric.load().data)
    data["q5"]["cases"] = 20
    more_cases = Rubric(data, path=tmp_path / "r.toml")
    reasons = observation_changes(stored, more_cases)
    assert list(reasons) == ["q5.conv.valid"]  # the table draws no case
    assert "[q5] cases changed" in reasons["q5.conv.valid"][0]
    slower = Rubric.load(write_rubric(tmp_path / "s.toml", {"call_timeout_s": 5}))
    assert set(observation_changes(stored, slower)) == {"q5.conv.valid", "q5.table.layer1"}


def test_observations_are_stored_as_a_judge_reads_them():
    import numpy as np

    value = {"pair": (1, 2), "n": np.int64(3), "x": np.arange(3.0), "bad": float("nan"), "nested": [np.float32(0.5)]}
    stored = json.loads(json.dumps(normalise(value)))
    decoded = decode(stored)
    assert decoded["pair"] == [1, 2] and decoded["n"] == 3 and np.array_equal(decoded["x"], np.arange(3.0))
    assert np.isnan(decoded["bad"]) and decoded["nested"] == [0.5]
