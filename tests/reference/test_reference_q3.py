"""q3: on the grader's data and budget, the handed-out regressor scores R² < 0 and its fix R² >= 0.9.

Both are trained by the grader's own probe code, on the default seed's data sets, with the
Keras seed the sandbox worker would use, so this is the grading run minus the sandbox.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from graders import test_q3_regressor as grader  # noqa: E402
from graders.harness.options import DEFAULT_SEED  # noqa: E402
from graders.inside.probes import q3 as probe  # noqa: E402
from graders.harness.rubric import Rubric  # noqa: E402
from graders.harness.session import worker_seed  # noqa: E402
from reference import q3_regressor as ref  # noqa: E402

pytestmark = pytest.mark.slow  # grades in a subprocess, starts workers or trains

SETTINGS = Rubric.load().section("q3", grader.Settings)


def grader_r2(preprocess, build_regressor, name: str) -> float:
    data = grader.regression_set(name, DEFAULT_SEED, SETTINGS)
    X_train, X_test = preprocess(data.X_train, data.X_test)
    keras.utils.set_random_seed(worker_seed(DEFAULT_SEED))  # the worker seeds so before every probe
    result = probe.fit_regressor(build_regressor=build_regressor, X_train=X_train, y_train=data.y_train,
                                 X_test=X_test, epochs=SETTINGS.epochs(name), batch_size=SETTINGS.batch_size)
    return grader.r2_score(data.y_test, result["predictions"])


@pytest.mark.parametrize("name", grader.SETS)
def test_broken_regressor_scores_below_zero(name):
    assert grader_r2(ref.broken_preprocess, ref.broken_build_regressor, name) < 0.0


@pytest.mark.parametrize("name", grader.SETS)
def test_fixed_regressor_scores_at_least_0_9(name):
    r2 = grader_r2(ref.preprocess, ref.build_regressor, name)
    assert r2 >= 0.9
    assert r2 >= SETTINGS.r2_min(name)


def test_problems_are_named_for_the_broken_preprocessing_only():
    data = grader.regression_set("friedman", DEFAULT_SEED, SETTINGS)
    max_ratio = SETTINGS.max_std_ratio
    fixed, _ = ref.preprocess(data.X_train, data.X_test)
    broken, _ = ref.broken_preprocess(data.X_train, data.X_test)
    assert grader.scale_problem(fixed, max_ratio) == "" and grader.layout_problem(fixed) == ""
    assert "not scaled" in grader.scale_problem(broken, max_ratio)
    assert "shaped (10, 1)" in grader.layout_problem(broken)


def test_output_problem_names_the_missing_flatten():
    assert grader.output_problem([1]) == "" and grader.output_problem([]) == ""
    assert "Flatten" in grader.output_problem([1, 1])


def test_prediction_problems():
    y = np.linspace(5.0, 25.0, 50)
    assert "cannot reach" in grader.prediction_problem(np.full(50, 0.999) - np.linspace(0, 0.5, 50), y)
    assert "same value" in grader.prediction_problem(np.full(50, 15.0), y)
    assert grader.prediction_problem(y + 1.0, y) == ""
