"""q6: the BatchNorm forward pass, FC_BN_PARAMS and the multiple choice Q6A_ANSWER.

Inputs are drawn from the seed; the expected values come from the NumPy reference, which
tests/reference/test_reference_q6.py holds equal to keras.layers.BatchNormalization. A failed forward
pass names the known mistake its result is closest to (graders/questions/q6_diagnosis.py).
"""

from dataclasses import dataclass

import numpy as np
import pytest

from graders.harness.compare import as_array, as_int, require_close
from graders.harness.errors import CheckFailed, WrongType, require
from graders.questions import q6_diagnosis as diagnose_bn
from reference import q6_batchnorm as ref

OUTPUTS = ("y", "new_moving_mean", "new_moving_var")
PARAMETERS = ("x", "gamma", "beta", "moving_mean", "moving_var")
DEFAULTS = {"momentum": 0.99, "epsilon": 1e-3}  # the contract's defaults, as in Keras


@dataclass(frozen=True)
class Settings:
    """rubric.toml [q6]: (atol, rtol) of y for float64 and float32 inputs, and of the moving statistics."""

    atol: float
    rtol: float
    atol_moving: float
    rtol_moving: float
    atol_float32: float
    rtol_float32: float


@pytest.fixture(scope="module")
def settings(rubric) -> Settings:
    return rubric.section("q6", Settings)


# -- inputs -----------------------------------------------------------------------------

def _batch(rng, shape, *, log_std=(-2.0, 1.0), offset=None):
    """A batch whose features' standard deviations spread over `log_std` (powers of ten). The first
    is at the low end (epsilon is a large part of its variance), the last at the high end (the
    moving variance's update is large enough there to show an N - 1 in it)."""
    features = shape[-1]
    std = 10 ** rng.uniform(*log_std, features)
    std[0] = 10 ** rng.uniform(log_std[0], log_std[0] + 0.5)
    std[-1] = 10 ** rng.uniform(log_std[1] - 0.5, log_std[1])
    center = std * rng.normal(0.0, 3.0, features) if offset is None else offset
    x = center + std * rng.normal(size=shape)
    # Moving statistics near, not at, the batch's: inference and training results differ.
    return {"x": x, "gamma": rng.uniform(0.5, 2.0, features), "beta": rng.normal(0.0, 1.0, features),
            "moving_mean": center + std * rng.normal(0.0, 1.0, features),
            "moving_var": std**2 * rng.uniform(0.5, 2.0, features)}


def _flat_shape(rng):
    return int(rng.integers(16, 65)), int(rng.integers(3, 9))


def _image_shape(rng):
    return tuple(int(rng.integers(low, high + 1)) for low, high in ((2, 8), (3, 6), (3, 6), (2, 5)))


def _large_batch(rng, dtype, log_std):
    """Features of magnitude 1e4 with a small spread: a one-pass variance or float32 arithmetic fails here."""
    shape = (int(rng.integers(16, 33)), int(rng.integers(3, 9)))
    offset = rng.choice([-1.0, 1.0], shape[1]) * rng.uniform(0.5, 2.0, shape[1]) * 1e4
    case = _batch(rng, shape, log_std=log_std, offset=offset)
    case["x"] = case["x"].astype(dtype)
    return case


# -- comparing one call -----------------------------------------------------------------

def _tolerances(settings: Settings, dtype=np.float64):
    """(atol, rtol) of each output: y's loosest for float32 inputs; the moving statistics are
    an exact weighted sum, and tight enough to see an N - 1 in a 1 % update."""
    y = (settings.atol_float32, settings.rtol_float32) if dtype == np.float32 else (settings.atol, settings.rtol)
    moving = (settings.atol_moving, settings.rtol_moving)
    return {"y": y, "new_moving_mean": moving, "new_moving_var": moving}


def _describe(case, training, hyper):
    x = case["x"]
    settings = "".join(f", {key}={value:g}" for key, value in hyper.items())
    return f"batchnorm_forward(x of shape {x.shape} {x.dtype}, training={training}{settings})"


def expect_batchnorm(student, case, *, training, tolerance, outputs=OUTPUTS, **hyper):
    """Call the student's batchnorm_forward on `case` and compare `outputs` with the reference.

    Raises:
        CheckFailed: naming the call, the output and the closest known mistake.
        SubmissionError: when the call fails or returns something else than three arrays.
    """
    args = [case[name] for name in PARAMETERS]
    what = _describe(case, training, hyper)
    actual = student.call("batchnorm_forward", *args, training=training, **hyper)
    if not isinstance(actual, (tuple, list)) or len(actual) != len(OUTPUTS):
        raise WrongType(f"{what}: expected a tuple (y, new_moving_mean, new_moving_var), got {actual!r:.80}")
    actual = [as_array(value, what=f"{name} of {what}") for value, name in zip(actual, OUTPUTS)]
    expected = ref.batchnorm_forward(*args, training=training, **hyper)
    parts = [OUTPUTS.index(name) for name in outputs]
    tolerances = [tolerance[OUTPUTS[index]] for index in parts]
    try:
        for index, (atol, rtol) in zip(parts, tolerances):
            require_close(actual[index], expected[index], what=f"{OUTPUTS[index]} of {what}", atol=atol, rtol=rtol)
    except CheckFailed as failure:
        inputs = {**dict(zip(PARAMETERS, args)), "training": training, **DEFAULTS, **hyper}
        diagnosis = diagnose_bn.closest_mistake([actual[i] for i in parts], inputs, parts=parts,
                                                expected=[expected[i] for i in parts], tolerances=tolerances)
        raise CheckFailed(f"{failure}{diagnose_bn.describe(diagnosis)}",
                          diagnosis=None if diagnosis is None else diagnosis[0].name) from None


# -- the forward pass -------------------------------------------------------------------

@pytest.mark.check("q6.train.output")
def test_training_output(student, rng, settings):
    case = _batch(rng, _flat_shape(rng))
    expect_batchnorm(student, case, training=True, tolerance=_tolerances(settings), outputs=("y",))


@pytest.mark.check("q6.train.moving_update")
def test_moving_statistics_update(student, rng, settings):
    case = _batch(rng, _flat_shape(rng))
    expect_batchnorm(student, case, training=True, tolerance=_tolerances(settings),
                     outputs=("new_moving_mean", "new_moving_var"))


@pytest.mark.check("q6.inference")
def test_inference(student, rng, settings):
    """Inference normalises with the moving statistics and returns them unchanged."""
    case = _batch(rng, _flat_shape(rng))
    expect_batchnorm(student, case, training=False, tolerance=_tolerances(settings))


@pytest.mark.check("q6.hyperparameters")
def test_momentum_and_epsilon(student, rng, settings):
    # Not near 0.5, where the reversed convention (momentum weighing the batch) gives the same result.
    hyper = {"momentum": round(float(rng.uniform(0.8, 0.95)), 3), "epsilon": round(float(10 ** rng.uniform(-2, -1)), 4)}
    for training in (True, False):
        case = _batch(rng, _flat_shape(rng))
        expect_batchnorm(student, case, training=training, tolerance=_tolerances(settings), **hyper)


@pytest.mark.check("q6.conv4d")
def test_image_batch(student, rng, settings):
    """(N, H, W, C): one mean and variance per channel, over N, H and W."""
    for training in (True, False):
        case = _batch(rng, _image_shape(rng))
        expect_batchnorm(student, case, training=training, tolerance=_tolerances(settings))


@pytest.mark.check("q6.batch_of_one")
def test_batch_of_one(student, rng, settings):
    """One sample: its batch variance is 0, so the training output is beta."""
    case = _batch(rng, (1, int(rng.integers(3, 9))), log_std=(-2.0, 0.0))
    expect_batchnorm(student, case, training=True, tolerance=_tolerances(settings))


@pytest.mark.check("q6.zero_variance")
def test_zero_variance_feature(student, rng, settings):
    """A constant feature normalises to beta (epsilon keeps the division finite)."""
    case = _batch(rng, _flat_shape(rng))
    constant = int(rng.integers(1, case["x"].shape[1] - 1))  # not the last, widest feature
    case["x"][:, constant] = round(float(rng.uniform(-3.0, 3.0)), 2)
    expect_batchnorm(student, case, training=True, tolerance=_tolerances(settings))


@pytest.mark.check("q6.large_values.{dtype}")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_large_values(student, rng, settings, dtype):
    # float32 resolves 1e4 to ~1e-3 only: its spread stays >= 1 there, with a looser tolerance.
    log_std = (0.0, 0.6) if dtype == "float32" else (-1.5, 0.5)
    case = _large_batch(rng, np.dtype(dtype).type, log_std)
    expect_batchnorm(student, case, training=True, tolerance=_tolerances(settings, np.dtype(dtype).type))


# -- constants --------------------------------------------------------------------------

FC_BN_HINTS = {
    "fc": "a Dense layer has a weight per input and unit, plus a bias per unit",
    "bn_trainable": "only gamma and beta are trained, one of each per feature",
    "bn_non_trainable": "the moving mean and moving variance are not trained, one of each per feature",
}


@pytest.mark.check("q6.fc_bn_params")
def test_fc_bn_params(student):
    value = student.get("FC_BN_PARAMS")
    if not isinstance(value, dict):
        raise WrongType(f"FC_BN_PARAMS should be a dict with keys {sorted(ref.FC_BN_PARAMS)}, got {value!r:.80}")
    problems = []
    for key, expected in ref.FC_BN_PARAMS.items():
        if key not in value:
            problems.append(f"the key {key!r} is missing")
        elif as_int(value[key], what=f"FC_BN_PARAMS[{key!r}]") != expected:
            problems.append(f"{key} = {value[key]} is not right: {FC_BN_HINTS[key]}")
    require(not problems, lambda: "FC_BN_PARAMS: " + "; ".join(problems))


@pytest.mark.check("q6.q6a")
def test_q6a_answer(student):
    answer = as_int(student.get("Q6A_ANSWER"), what="Q6A_ANSWER (the number of the true statement)")
    require(answer == ref.Q6A_ANSWER, f"Q6A_ANSWER: statement {answer} is not the true one about BatchNorm")
