"""q6: the NumPy reference equals keras.layers.BatchNormalization, and the grader's checks work.

The grader's checks run in-process on a fake student (tests/reference/in_process.py): every known
mistake loses exactly its own checks, named, at the default seed; tests/reference/test_sweep_q4_q5_q6.py
sweeps the seeds, the tolerance margins and the correct variants.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import numpy as np
import pytest

from graders import test_q6_batchnorm as grader
from graders.questions.q6 import diagnosis as diagnose_bn
from reference.q6_batchnorm import FC_BN_PARAMS, batchnorm_forward
from tests.reference.in_process import (
    FakeStudent,
    checks_of,
    diagnoses,
    failed,
    rubric_settings,
    run_checks,
)


def keras_batchnorm(x, gamma, beta, moving_mean, moving_var, *, training, momentum=0.99, epsilon=1e-3,
                    dtype="float64"):
    layer = keras.layers.BatchNormalization(momentum=momentum, epsilon=epsilon, dtype=dtype)
    layer.build(np.shape(x))
    for variable, value in zip((layer.gamma, layer.beta, layer.moving_mean, layer.moving_variance),
                               (gamma, beta, moving_mean, moving_var)):
        variable.assign(value)
    y = layer(np.asarray(x, dtype=dtype), training=training)
    return tuple(np.asarray(value, dtype=np.float64) for value in (y, layer.moving_mean, layer.moving_variance))


def _case(seed, shape):
    rng = np.random.default_rng(seed)
    return grader._batch(rng, shape)


CASES = [((24, 5), {}), ((3, 4, 5, 3), {}), ((1, 4), {}), ((16, 6), {"momentum": 0.9, "epsilon": 0.05})]


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape, hyper", CASES)
def test_reference_matches_keras(shape, hyper, training):
    case = _case(len(shape) * 100 + shape[0], shape)
    args = [case[name] for name in grader.PARAMETERS]
    expected = keras_batchnorm(*args, training=training, **hyper)
    for got, want, name in zip(batchnorm_forward(*args, training=training, **hyper), expected, grader.OUTPUTS):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10, err_msg=name)


def test_reference_zero_variance_matches_keras():
    case = _case(7, (12, 4))
    case["x"][:, 1] = 2.5
    args = [case[name] for name in grader.PARAMETERS]
    for got, want in zip(batchnorm_forward(*args, training=True), keras_batchnorm(*args, training=True)):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


def test_keras_moving_variance_uses_biased_variance():
    x = np.array([[0.0], [2.0]])  # biased variance 1, unbiased 2
    _, _, moving_var = keras_batchnorm(x, [1.0], [0.0], [0.0], [0.0], training=True, momentum=0.5)
    assert moving_var[0] == pytest.approx(0.5)


def test_fc_bn_params_match_keras():
    model = keras.Sequential([keras.Input((10,)), keras.layers.Dense(20), keras.layers.BatchNormalization()])
    dense, norm = model.layers
    assert FC_BN_PARAMS == {
        "fc": dense.count_params(),
        "bn_trainable": sum(int(np.prod(w.shape)) for w in norm.trainable_weights),
        "bn_non_trainable": sum(int(np.prod(w.shape)) for w in norm.non_trainable_weights),
    }


# -- the grader's checks at the default seed (tests/reference/test_sweep_q4_q5_q6.py sweeps many) --

Q6_FORWARD = {check.id for check in checks_of(grader)} - {"q6.fc_bn_params", "q6.q6a"}
Y_TRAINING = {"q6.train.output", "q6.hyperparameters.epsilon", "q6.conv4d", "q6.batch_of_one", "q6.zero_variance",
              "q6.large_values.float32", "q6.large_values.float64"}
MOVING = {"q6.train.moving_update", "q6.hyperparameters.momentum"}
INFERENCE = {"q6.inference", "q6.hyperparameters.epsilon", "q6.conv4d"}

# Which checks each known mistake loses: the grader's design, written out. A y mistake loses the checks
# that compare y where it shows; a moving-update mistake only the two checks of the moving statistics.
EXPECTED_FAILURES = {
    "unbiased variance in the moving update": MOVING,
    "unbiased variance": Y_TRAINING | MOVING,
    "epsilon outside the square root": {"q6.train.output", "q6.inference", "q6.hyperparameters.epsilon", "q6.conv4d",
                                        "q6.zero_variance", "q6.large_values.float64"},
    "the wrong axis (per sample)": Y_TRAINING | MOVING,
    "the wrong axis (batch axis only)": {"q6.conv4d"},
    "batch statistics used at inference": INFERENCE,
    "moving statistics used in training": Y_TRAINING,
    "moving statistics not updated": MOVING,
    "momentum convention reversed": MOVING,
    "epsilon folded into the moving variance": MOVING,
    "moving statistics updated at inference": {"q6.inference"},
    "momentum ignored": {"q6.hyperparameters.momentum"},
    "epsilon ignored": {"q6.hyperparameters.epsilon"},
    "variance as mean(x**2) - mean(x)**2": {"q6.large_values.float32"},
    "computed in float32": {"q6.large_values.float64"},
}


def allowed_diagnoses(mistake_name):
    """Both unbiased variances look the same to a check of the moving statistics only."""
    if "unbiased" in mistake_name:
        return {mistake_name, "unbiased variance in the moving update"}
    return {mistake_name}


def mistaken(mistake):
    def forward(x, gamma, beta, moving_mean, moving_var, *, training, momentum=0.99, epsilon=1e-3):
        return diagnose_bn.mistaken_forward(mistake, x, gamma, beta, moving_mean, moving_var, training=training,
                                            momentum=momentum, epsilon=epsilon)

    return forward


def student_with(forward):
    return FakeStudent({"batchnorm_forward": forward, "FC_BN_PARAMS": FC_BN_PARAMS, "Q6A_ANSWER": 2})


def test_mistake_table_is_complete():
    assert set(EXPECTED_FAILURES) == {mistake.name for mistake in diagnose_bn.MISTAKES}


@pytest.mark.parametrize("mistake", diagnose_bn.MISTAKES, ids=lambda m: m.name)
def test_each_mistake_loses_its_checks_and_is_named_at_the_default_seed(mistake):
    outcomes = run_checks(checks_of(grader), student_with(mistaken(mistake)), 1234,
                          rubric_settings("q6", grader.Settings))
    assert failed(outcomes) == EXPECTED_FAILURES[mistake.name]
    assert diagnoses(outcomes) <= allowed_diagnoses(mistake.name)
    for check in failed(outcomes):
        assert "known mistake" in str(outcomes[check].failure), check


def test_reference_passes_every_check_at_a_tiny_tolerance():
    outcomes = run_checks(checks_of(grader), student_with(batchnorm_forward), 1234,
                          rubric_settings("q6", grader.Settings, 1e-3))
    assert not failed(outcomes)


def test_no_mistake_matches_the_reference_when_it_is_right():
    case = _case(3, (20, 5))
    expected = batchnorm_forward(*[case[n] for n in grader.PARAMETERS], training=True)
    inputs = {**case, "training": True, "momentum": 0.99, "epsilon": 1e-3}
    assert diagnose_bn.closest_mistake(expected, inputs, expected=expected, tolerances=[(1e-6, 1e-6)] * 3) is None


def test_a_moving_statistic_kept_with_keepdims_is_the_same_answer():
    case = _case(5, (3, 4, 5, 3))
    mean = batchnorm_forward(*[case[n] for n in grader.PARAMETERS], training=True)[1]
    notes = []
    for value in (mean.reshape(1, 1, 1, 3), mean.reshape(1, 3).tolist()):
        np.testing.assert_array_equal(grader.as_output(value, "new_moving_mean", "call", (3,), notes), mean)
    assert "new_moving_mean: shape (1, 1, 1, 3) read as (3,)" in notes and "new_moving_mean: a list" in notes
