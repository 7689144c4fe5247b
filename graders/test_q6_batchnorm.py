"""q6: the BatchNorm forward pass, FC_BN_PARAMS and the multiple choice Q6A_ANSWER.

Inputs are drawn from the seed; the expected values come from the NumPy reference, which
tests/reference/test_reference_q6.py holds equal to keras.layers.BatchNormalization. Each check
compares only the outputs it is about (y in training, the moving statistics, inference), so a
mistake loses exactly its own checks; a failure names the known mistake its result is closest to
(graders/questions/q6/diagnosis.py). Statistics kept with keepdims=True, lists and float32 values
are the same answer.
"""

from dataclasses import dataclass

import numpy as np
import pytest

from graders.core.compare import (
    as_array,
    as_int,
    degenerate_answer,
    require_close,
    squeeze_to,
)
from graders.core.errors import CheckFailed, WrongType, require
from graders.questions.q6 import diagnosis as diagnose_bn
from reference import q6_batchnorm as ref

OUTPUTS = ("y", "new_moving_mean", "new_moving_var")
MOVING = ("new_moving_mean", "new_moving_var")
PARAMETERS = ("x", "gamma", "beta", "moving_mean", "moving_var")
DEFAULTS = {"momentum": diagnose_bn.DEFAULT_MOMENTUM, "epsilon": diagnose_bn.DEFAULT_EPSILON}


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
    return tuple(int(rng.integers(low, high + 1)) for low, high in ((2, 4), (3, 5), (3, 5), (2, 5)))


def _large_batch(rng, dtype, log_std, samples):
    """Features of magnitude 1e4 with a small spread: a one-pass variance or float32 arithmetic fails here.
    The first feature, the narrowest, lies where float32 resolves 2e-3 only (magnitude 1.7e4 to 2e4)."""
    shape = (int(rng.integers(*samples)), int(rng.integers(3, 9)))
    offset = rng.choice([-1.0, 1.0], shape[1]) * rng.uniform(0.5, 2.0, shape[1]) * 1e4
    offset[0] = np.copysign(rng.uniform(1.7e4, 2.0e4), offset[0])
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


def call_batchnorm(student, case, *, training, **hyper):
    """The student's `(y, new_moving_mean, new_moving_var)` on `case`, not yet type-checked, and the call's name.

    Raises:
        SubmissionError: when the call fails or does not return three outputs.
    """
    what = _describe(case, training, hyper)
    actual = student.call("batchnorm_forward", *[case[name] for name in PARAMETERS], training=training, **hyper)
    if not isinstance(actual, (tuple, list)) or len(actual) != len(OUTPUTS):
        raise WrongType(f"{what}: expected a tuple (y, new_moving_mean, new_moving_var), got {actual!r:.80}")
    return dict(zip(OUTPUTS, actual)), what


def as_output(value, name, what, shape, notes):
    """One output as a float64 array; extra singleton dimensions (keepdims=True) are dropped and noted.

    Raises:
        SubmissionError: for a non-numeric value; another shape is left for the comparison to name.
    """
    kinds: list[str] = []
    array = squeeze_to(as_array(value, what=f"{name} of {what}", notes=kinds), shape, notes=kinds)
    for kind in kinds:
        if f"{name}: {kind}" not in notes:
            notes.append(f"{name}: {kind}")
    return array


def record_representations(check, notes: list[str]) -> None:
    """Show the accepted representations with the check's result (its details), each once."""
    if check is not None and notes:
        shown = check.details.setdefault("representations", [])
        shown.extend(note for note in notes if note not in shown)


def expect_batchnorm(student, case, *, training, tolerance, outputs=OUTPUTS, check=None, **hyper):
    """Call the student's batchnorm_forward on `case` and compare `outputs` with the reference.

    Args:
        outputs: the outputs this check is about; the others are not looked at.
        check: the check's context, whose details receive the representations accepted.

    Returns:
        (the student's outputs by name, as returned: only `outputs` are type-checked; the call's description).

    Raises:
        CheckFailed: naming the call, the output and the closest known mistake; an output that
            does not depend on x gets its own message.
        SubmissionError: when the call fails or returns something else than three arrays.
    """
    args = [case[name] for name in PARAMETERS]
    raw, what = call_batchnorm(student, case, training=training, **hyper)
    expected = dict(zip(OUTPUTS, ref.batchnorm_forward(*args, training=training, **hyper)))
    notes: list[str] = []
    actual = {name: as_output(raw[name], name, what, expected[name].shape, notes) for name in outputs}
    record_representations(check, notes)
    if "y" in outputs:
        _require_depends_on_x(actual["y"], expected["y"], what)
    try:
        for name in outputs:
            require_close(actual[name], expected[name], what=f"{name} of {what}", atol=tolerance[name][0],
                          rtol=tolerance[name][1])
    except CheckFailed as failure:
        if any(degenerate_answer(actual[name], expected[name]) for name in outputs):
            raise  # a placeholder is no known mistake: its message says what it is
        parts = [OUTPUTS.index(name) for name in outputs]
        inputs = {**dict(zip(PARAMETERS, args)), "training": training, **DEFAULTS, **hyper}
        diagnosis = diagnose_bn.closest_mistake([actual[name] for name in outputs], inputs, parts=parts,
                                                expected=[expected[name] for name in outputs],
                                                tolerances=[tolerance[name] for name in outputs])
        raise CheckFailed(f"{failure}{diagnose_bn.describe(diagnosis)}",
                          diagnosis=None if diagnosis is None else diagnosis[0].name) from None
    return raw, what


def _require_depends_on_x(y, expected, what):
    """A y that is the same for every sample (a placeholder, x left out) is right only by accident."""
    if y.shape != expected.shape or y.ndim < 2:
        return
    per_sample, want = y.reshape(-1, y.shape[-1]), expected.reshape(-1, expected.shape[-1])
    varies = np.ptp(want, axis=0) > 0
    if len(per_sample) > 1 and np.any(varies) and np.all(np.ptp(per_sample, axis=0) == 0):
        constant = "0 everywhere" if not np.any(per_sample) else "the same for every sample"
        raise CheckFailed(f"y of {what} is {constant}: it does not depend on x. BatchNorm normalises each "
                          "sample: (x - mean) / sqrt(var + epsilon) * gamma + beta")


# -- the forward pass -------------------------------------------------------------------

@pytest.mark.check("q6.train.output")
def test_training_output(student, rng, settings, check):
    """y in training mode: normalised with the batch's mean and biased variance."""
    case = _batch(rng, _flat_shape(rng))
    expect_batchnorm(student, case, training=True, tolerance=_tolerances(settings), outputs=("y",), check=check)


@pytest.mark.check("q6.train.moving_update")
def test_moving_statistics_update(student, rng, settings, check):
    """The new moving mean and variance in training mode, at the default momentum."""
    case = _batch(rng, _flat_shape(rng))
    expect_batchnorm(student, case, training=True, tolerance=_tolerances(settings), outputs=MOVING, check=check)


@pytest.mark.check("q6.inference")
def test_inference(student, rng, settings, check):
    """Inference normalises with the moving statistics and returns them unchanged."""
    case = _batch(rng, _flat_shape(rng))
    expect_batchnorm(student, case, training=False, tolerance=_tolerances(settings), check=check)


@pytest.mark.check("q6.hyperparameters.epsilon")
def test_epsilon(student, rng, settings, check):
    """y with another epsilon, in both modes: the argument is used, inside the square root."""
    epsilon = round(float(10 ** rng.uniform(-2, -1)), 4)
    for training in (True, False):
        case = _batch(rng, _flat_shape(rng))
        expect_batchnorm(student, case, training=training, tolerance=_tolerances(settings), outputs=("y",),
                         check=check, epsilon=epsilon)


@pytest.mark.check("q6.hyperparameters.momentum")
def test_momentum(student, rng, settings, check):
    """The moving statistics with another momentum; not near 0.5, where the reversed convention
    (momentum weighing the batch) gives the same result."""
    momentum = round(float(rng.uniform(0.8, 0.95)), 3)
    case = _batch(rng, _flat_shape(rng))
    expect_batchnorm(student, case, training=True, tolerance=_tolerances(settings), outputs=MOVING, check=check,
                     momentum=momentum)


@pytest.mark.check("q6.conv4d")
def test_image_batch(student, rng, settings, check):
    """(N, H, W, C): one mean and variance per channel, over N, H and W. y is compared in both modes;
    the moving statistics are those of the same pixels as an (N*H*W, C) batch, whatever this
    submission's update rule (train.moving_update grades the rule)."""
    tolerance = _tolerances(settings)
    for training in (True, False):
        case = _batch(rng, _image_shape(rng))
        raw, what = expect_batchnorm(student, case, training=training, tolerance=tolerance, outputs=("y",),
                                     check=check)
        if training:
            _expect_per_channel_moving_statistics(student, case, raw, what, tolerance, check)


def _expect_per_channel_moving_statistics(student, case, raw, what, tolerance, check):
    channels = case["x"].shape[-1]
    pixels = {**case, "x": case["x"].reshape(-1, channels)}
    flat, flat_what = call_batchnorm(student, pixels, training=True)
    notes: list[str] = []
    for name in MOVING:
        per_channel = as_output(raw[name], name, what, (channels,), notes)
        require_close(per_channel, as_output(flat[name], name, flat_what, (channels,), notes),
                      what=f"{name} of {what}, against the same pixels as an (N*H*W, C) batch: the statistics of "
                           "an image batch are per channel, over N, H and W; here they are not",
                      atol=tolerance[name][0], rtol=tolerance[name][1])
    record_representations(check, notes)


@pytest.mark.check("q6.batch_of_one")
def test_batch_of_one(student, rng, settings, check):
    """One sample: its batch variance is 0, so the training output is beta. An output that is beta
    whatever x is would pass by accident: two different samples must give different outputs."""
    case = _batch(rng, (1, int(rng.integers(3, 9))), log_std=(-2.0, 0.0))
    expect_batchnorm(student, case, training=True, tolerance=_tolerances(settings), outputs=("y",), check=check)
    two = _batch(rng, (2, case["x"].shape[1]), log_std=(-1.0, 0.0))
    raw, what = call_batchnorm(student, two, training=True)
    expected = ref.batchnorm_forward(*[two[name] for name in PARAMETERS], training=True)[0]
    _require_depends_on_x(as_output(raw["y"], "y", what, expected.shape, []), expected, what)


@pytest.mark.check("q6.zero_variance")
def test_zero_variance_feature(student, rng, settings, check):
    """A constant feature normalises to beta (epsilon keeps the division finite)."""
    case = _batch(rng, _flat_shape(rng))
    constant = int(rng.integers(1, case["x"].shape[1] - 1))  # not the last, widest feature
    case["x"][:, constant] = round(float(rng.uniform(-3.0, 3.0)), 2)
    expect_batchnorm(student, case, training=True, tolerance=_tolerances(settings), outputs=("y",), check=check)


# (log10 of the features' spread, number of samples); float32 resolves 1e4 to ~1e-3 only: its spread
# stays >= 1 there, with a looser tolerance, and few samples make an N - 1 show beyond it.
LARGE_VALUES = {"float32": ((0.5, 1.0), (6, 13)), "float64": ((-1.2, 0.5), (16, 33))}


@pytest.mark.check("q6.large_values.{dtype}")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_large_values(student, rng, settings, check, dtype):
    """y for features of magnitude 1e4: the float64 case asks for float64 precision."""
    log_std, samples = LARGE_VALUES[dtype]
    case = _large_batch(rng, np.dtype(dtype).type, log_std, samples)
    expect_batchnorm(student, case, training=True, tolerance=_tolerances(settings, np.dtype(dtype).type),
                     outputs=("y",), check=check)


# -- constants --------------------------------------------------------------------------

FC_BN_HINTS = {
    "fc": "a Dense layer has a weight per input and unit, plus a bias per unit",
    "bn_trainable": "only gamma and beta are trained, one of each per feature",
    "bn_non_trainable": "the moving mean and moving variance are not trained, one of each per feature",
}


@pytest.mark.check("q6.fc_bn_params")
def test_fc_bn_params(student, check):
    value = student.get("FC_BN_PARAMS")
    if not isinstance(value, dict):
        raise WrongType(f"FC_BN_PARAMS should be a dict with keys {sorted(ref.FC_BN_PARAMS)}, got {value!r:.80}")
    problems, notes = [], []
    for key, expected in ref.FC_BN_PARAMS.items():
        if key not in value:
            problems.append(f"the key {key!r} is missing")
        elif as_int(value[key], what=f"FC_BN_PARAMS[{key!r}]", notes=notes) != expected:
            problems.append(f"{key} = {value[key]} is not right: {FC_BN_HINTS[key]}")
    record_representations(check, notes)
    require(not problems, lambda: "FC_BN_PARAMS: " + "; ".join(problems))


@pytest.mark.check("q6.q6a")
def test_q6a_answer(student):
    answer = as_int(student.get("Q6A_ANSWER"), what="Q6A_ANSWER (the number of the true statement)")
    require(answer == ref.Q6A_ANSWER, f"Q6A_ANSWER: statement {answer} is not the true one about BatchNorm")
