"""q6: the NumPy reference equals keras.layers.BatchNormalization, and the grader's tolerances are sound.

The grader's checks are run in-process on a fake student (a plain function), so this tests
what the rubric comment claims: float32 arithmetic passes, and every known mistake fails the
same checks at a fifth and at five times the tolerances, with its own name in the message.
"""

import os
import zlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from graders import test_q6_batchnorm as grader  # noqa: E402
from graders.questions import q6_diagnosis as diagnose_bn  # noqa: E402
from graders.harness.errors import CheckFailed  # noqa: E402
from graders.harness.rubric import Rubric  # noqa: E402
from reference.q6_batchnorm import FC_BN_PARAMS, batchnorm_forward  # noqa: E402

SEEDS = range(8)


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


# -- the grader's checks on fake students ------------------------------------------------

def scaled_settings(factor) -> grader.Settings:
    """The real rubric's q6 settings with every tolerance multiplied by `factor`."""
    settings = Rubric.load().section("q6", grader.Settings)
    return grader.Settings(**{key: value * factor for key, value in vars(settings).items()})


class FakeStudent:
    def __init__(self, function):
        self.function = function

    def call(self, name, *args, **kwargs):
        assert name == "batchnorm_forward"
        return self.function(*args, **kwargs)


FORWARD_CHECKS = {
    "train.output": grader.test_training_output,
    "train.moving_update": grader.test_moving_statistics_update,
    "inference": grader.test_inference,
    "hyperparameters": grader.test_momentum_and_epsilon,
    "conv4d": grader.test_image_batch,
    "batch_of_one": grader.test_batch_of_one,
    "zero_variance": grader.test_zero_variance_feature,
    "large_values.float32": lambda **kw: grader.test_large_values(dtype="float32", **kw),
    "large_values.float64": lambda **kw: grader.test_large_values(dtype="float64", **kw),
}
TRAINING = set(FORWARD_CHECKS) - {"inference"}
MOVING = TRAINING - {"train.output"}

# Which checks each known mistake fails: the grader's design, written out.
EXPECTED_FAILURES = {
    "unbiased variance in the moving update": MOVING,
    "unbiased variance": TRAINING,
    "epsilon outside the square root": set(FORWARD_CHECKS) - {"train.moving_update", "batch_of_one",
                                                               "large_values.float32"},
    "the wrong axis (per sample)": TRAINING,
    "the wrong axis (batch axis only)": {"conv4d"},
    "batch statistics used at inference": {"inference", "hyperparameters", "conv4d"},
    "moving statistics used in training": TRAINING - {"train.moving_update"},
    "moving statistics not updated": MOVING,
    "momentum convention reversed": MOVING,
    "variance as mean(x**2) - mean(x)**2": {"large_values.float32"},
    "computed in float32": {"large_values.float64"},
}


def run_checks(function, seed, factor):
    """{check: (passed, diagnosis)} of every forward-pass check on `function` for `seed`."""
    outcomes = {}
    for name, test in FORWARD_CHECKS.items():
        rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
        try:
            test(student=FakeStudent(function), rng=rng, settings=scaled_settings(factor))
            outcomes[name] = (True, None)
        except CheckFailed as failure:
            outcomes[name] = (False, failure.diagnosis)
    return outcomes


def _mistaken(mistake):
    def forward(*args, training, momentum=0.99, epsilon=1e-3):
        return diagnose_bn.mistaken_forward(mistake, *args, training=training, momentum=momentum, epsilon=epsilon)

    return forward


def test_mistake_table_is_complete():
    assert set(EXPECTED_FAILURES) == {mistake.name for mistake in diagnose_bn.MISTAKES}


@pytest.mark.parametrize("mistake", diagnose_bn.MISTAKES, ids=lambda m: m.name)
def test_each_mistake_fails_its_checks_and_is_named(mistake):
    for seed in SEEDS:
        for factor in (0.2, 5.0):
            outcomes = run_checks(_mistaken(mistake), seed, factor)
            failed = {name for name, (passed, _) in outcomes.items() if not passed}
            assert failed == EXPECTED_FAILURES[mistake.name], f"seed {seed}, tolerance x{factor}"
            names = {diagnosis for passed, diagnosis in outcomes.values() if not passed}
            # Two unbiased variances look the same to a check of the moving statistics only.
            assert names <= {mistake.name, "unbiased variance in the moving update"}, f"seed {seed}"


@pytest.mark.parametrize("dtype", ["numpy", "keras"])
def test_float32_arithmetic_passes_at_half_the_tolerance(dtype):
    def forward(x, gamma, beta, moving_mean, moving_var, *, training, momentum=0.99, epsilon=1e-3):
        if dtype == "keras":
            return keras_batchnorm(x, gamma, beta, moving_mean, moving_var, training=training, momentum=momentum,
                                   epsilon=epsilon, dtype="float32")
        mistake = diagnose_bn.Mistake("float32", "", float32=True)
        return diagnose_bn.mistaken_forward(mistake, x, gamma, beta, moving_mean, moving_var, training=training,
                                            momentum=momentum, epsilon=epsilon)

    for seed in SEEDS:
        outcomes = run_checks(forward, seed, 0.5)
        failed = {name for name, (passed, _) in outcomes.items() if not passed}
        assert failed == {"large_values.float64"}, f"seed {seed}"


def test_reference_passes_every_check_at_a_tiny_tolerance():
    for seed in SEEDS:
        outcomes = run_checks(batchnorm_forward, seed, 1e-3)
        assert all(passed for passed, _ in outcomes.values()), f"seed {seed}: {outcomes}"


def test_no_mistake_matches_the_reference_when_it_is_right():
    case = _case(3, (20, 5))
    expected = batchnorm_forward(*[case[n] for n in grader.PARAMETERS], training=True)
    inputs = {**case, "training": True, "momentum": 0.99, "epsilon": 1e-3}
    assert diagnose_bn.closest_mistake(expected, inputs, expected=expected, tolerances=[(1e-6, 1e-6)] * 3) is None
