"""q6: the BatchNorm forward pass, FC_BN_PARAMS and the multiple choice Q6A_ANSWER.

Inputs are drawn from the seed; the expected values come from the trusted side (the NumPy reference,
which tests/reference/test_reference_q6.py holds equal to keras.layers.BatchNormalization). Each check
compares only the outputs and the mode it is about (y in training, the moving statistics, inference),
so a mistake loses exactly its own checks (graders/questions/q6/mistakes.py names them); its judge
(graders/questions/q6/judges.py) decides under the rubric's tolerances and names the known mistake the
result is closest to. Statistics kept with keepdims=True, lists and float32 values are the same answer.
FC_BN_PARAMS and Q6A_ANSWER do not depend on the seed: their form is checked here, their value by the
judge, and the student kit, which holds no answer, says they are checked in the TA's grading.
"""

import numpy as np
import pytest

from graders.core import closeness
from graders.core.compare import as_array, as_int, squeeze_to
from graders.core.errors import WrongType
from graders.questions.q6.judges import SAME_AS_REFERENCE
from graders.questions.q6.mistakes import FC_BN_KEYS

Q = "q6"
OUTPUTS = ("y", "new_moving_mean", "new_moving_var")
MOVING = ("new_moving_mean", "new_moving_var")
PARAMETERS = ("x", "gamma", "beta", "moving_mean", "moving_var")


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


# -- observing one call -----------------------------------------------------------------

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
        SubmissionError: for a non-numeric value; another shape is left for the judge to name.
    """
    kinds: list[str] = []
    array = squeeze_to(as_array(value, what=f"{name} of {what}", notes=kinds), shape, notes=kinds)
    for kind in kinds:
        if f"{name}: {kind}" not in notes:
            notes.append(f"{name}: {kind}")
    return array


def observe_call(student, trusted, case, notes, *, training, outputs=OUTPUTS, **hyper):
    """Call the student's batchnorm_forward on `case`: the outputs this check is about, the reference's, and
    where every known mistake's result lies (graders/questions/q6/judges.py decides from them).

    Args:
        outputs: the outputs this check is about; the others are not looked at.
        notes: receives the representations accepted.

    Returns:
        (the step's observation, the student's outputs by name as returned, the call's description).

    Raises:
        SubmissionError: when the call fails or returns something else than three arrays.
    """
    call = {**{name: case[name] for name in PARAMETERS}, "training": training, **hyper}
    raw, what = call_batchnorm(student, case, training=training, **hyper)
    expected = dict(zip(OUTPUTS, trusted.value(Q, "batchnorm_forward", **call)))
    actual = {name: as_output(raw[name], name, what, expected[name].shape, notes) for name in outputs}
    mistakes = trusted.value(Q, "mistakes.batchnorm_forward", **call)
    step = {"kind": "compare", "what": what, "precision": "float32" if case["x"].dtype == np.float32 else "float64",
            "outputs": {name: {"actual": actual[name], "expected": expected[name]} for name in outputs},
            "mistakes": {name: None if result is None else _where_mistake_lies(result, actual, expected, outputs)
                         for name, result in mistakes.items()}}
    return step, raw, what


def _where_mistake_lies(result, actual, expected, outputs) -> dict:
    """Per output: the reference's own (bit for bit), or its frontiers against the reference and the student."""
    lies = {}
    for name in outputs:
        mistaken = result[OUTPUTS.index(name)]
        if mistaken.shape == expected[name].shape and np.array_equal(mistaken, expected[name]):
            lies[name] = SAME_AS_REFERENCE
            continue
        same, near = closeness.frontier(mistaken, expected[name]), closeness.frontier(actual[name], mistaken)
        lies[name] = {"same": None if same is None else same[:, :2], "near": None if near is None else near[:, :2]}
    return lies


def observe(check, steps, notes) -> None:
    check.observe("forward", steps=steps, representations=notes)


# -- the forward pass -------------------------------------------------------------------

@pytest.mark.check("q6.train.output")
def test_training_output(student, trusted, rng, check):
    """y in training mode: normalised with the batch's mean and biased variance (momentum and epsilon
    left to their defaults: a wrong default epsilon shows here)."""
    notes: list[str] = []
    step, _, _ = observe_call(student, trusted, _batch(rng, _flat_shape(rng)), notes, training=True, outputs=("y",))
    observe(check, [step], notes)


@pytest.mark.check("q6.train.moving_update")
def test_moving_statistics_update(student, trusted, rng, check):
    """The new moving mean and variance in training mode, at the default momentum."""
    notes: list[str] = []
    step, _, _ = observe_call(student, trusted, _batch(rng, _flat_shape(rng)), notes, training=True, outputs=MOVING)
    observe(check, [step], notes)


@pytest.mark.check("q6.inference")
def test_inference(student, trusted, rng, check):
    """Inference normalises with the moving statistics and returns them unchanged."""
    notes: list[str] = []
    step, _, _ = observe_call(student, trusted, _batch(rng, _flat_shape(rng)), notes, training=False)
    observe(check, [step], notes)


@pytest.mark.check("q6.hyperparameters.epsilon")
def test_epsilon(student, trusted, rng, check):
    """y in training mode with another epsilon: the argument is used, inside the square root. (Inference
    is the inference check's: a mistake of that mode alone loses that check alone.)"""
    epsilon = round(float(10 ** rng.uniform(-2, -1)), 4)
    notes: list[str] = []
    step, _, _ = observe_call(student, trusted, _batch(rng, _flat_shape(rng)), notes, training=True, outputs=("y",),
                              epsilon=epsilon)
    observe(check, [step], notes)


@pytest.mark.check("q6.hyperparameters.momentum")
def test_momentum(student, trusted, rng, check):
    """The moving statistics with another momentum; not near 0.5, where the reversed convention
    (momentum weighing the batch) gives the same result."""
    momentum = round(float(rng.uniform(0.8, 0.95)), 3)
    notes: list[str] = []
    step, _, _ = observe_call(student, trusted, _batch(rng, _flat_shape(rng)), notes, training=True, outputs=MOVING,
                              momentum=momentum)
    observe(check, [step], notes)


@pytest.mark.check("q6.conv4d")
def test_image_batch(student, trusted, rng, check):
    """(N, H, W, C) in training mode: one mean and variance per channel, over N, H and W. y is compared;
    the moving statistics are those of the same pixels as an (N*H*W, C) batch, whatever this
    submission's update rule (train.moving_update grades the rule, inference the other mode)."""
    notes: list[str] = []
    case = _batch(rng, _image_shape(rng))
    step, raw, what = observe_call(student, trusted, case, notes, training=True, outputs=("y",))
    observe(check, [step, _per_channel_moving_statistics(student, case, raw, what, notes)], notes)


def _per_channel_moving_statistics(student, case, raw, what, notes) -> dict:
    channels = case["x"].shape[-1]
    pixels = {**case, "x": case["x"].reshape(-1, channels)}
    flat, flat_what = call_batchnorm(student, pixels, training=True)
    return {"kind": "per_channel", "what": what,
            "outputs": {name: {"image": as_output(raw[name], name, what, (channels,), notes),
                               "flat": as_output(flat[name], name, flat_what, (channels,), notes)}
                        for name in MOVING}}


@pytest.mark.check("q6.batch_of_one")
def test_batch_of_one(student, trusted, rng, check):
    """One sample: its batch variance is 0, so the training output is beta. An output that is beta
    whatever x is would pass by accident: two different samples must give different outputs."""
    notes: list[str] = []
    case = _batch(rng, (1, int(rng.integers(3, 9))), log_std=(-2.0, 0.0))
    step, _, _ = observe_call(student, trusted, case, notes, training=True, outputs=("y",))
    two = _batch(rng, (2, case["x"].shape[1]), log_std=(-1.0, 0.0))
    raw, what = call_batchnorm(student, two, training=True)
    expected = trusted.value(Q, "batchnorm_forward", **{name: two[name] for name in PARAMETERS}, training=True)[0]
    varies = {"kind": "varies", "what": what, "actual": as_output(raw["y"], "y", what, expected.shape, []),
              "expected": expected}
    observe(check, [step, varies], notes)


@pytest.mark.check("q6.zero_variance")
def test_zero_variance_feature(student, trusted, rng, check):
    """A constant feature normalises to beta (epsilon keeps the division finite)."""
    case = _batch(rng, _flat_shape(rng))
    constant = int(rng.integers(1, case["x"].shape[1] - 1))  # not the last, widest feature
    case["x"][:, constant] = round(float(rng.uniform(-3.0, 3.0)), 2)
    notes: list[str] = []
    step, _, _ = observe_call(student, trusted, case, notes, training=True, outputs=("y",))
    observe(check, [step], notes)


# (log10 of the features' spread, number of samples); float32 resolves 1e4 to ~1e-3 only: its spread
# stays >= 1 there, with a looser tolerance, and few samples make an N - 1 show beyond it.
LARGE_VALUES = {"float32": ((0.5, 1.0), (6, 13)), "float64": ((-1.2, 0.5), (16, 33))}


@pytest.mark.check("q6.large_values.{dtype}")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_large_values(student, trusted, rng, check, dtype):
    """y for features of magnitude 1e4: the float64 case asks for float64 precision."""
    log_std, samples = LARGE_VALUES[dtype]
    case = _large_batch(rng, np.dtype(dtype).type, log_std, samples)
    notes: list[str] = []
    step, _, _ = observe_call(student, trusted, case, notes, training=True, outputs=("y",))
    observe(check, [step], notes)


# -- constants: answers whatever the seed, so the kit checks their form only --------------

@pytest.mark.check("q6.fc_bn_params")
def test_fc_bn_params(student, trusted, check):
    value = student.get("FC_BN_PARAMS")
    if not isinstance(value, dict):
        raise WrongType(f"FC_BN_PARAMS should be a dict with keys {list(FC_BN_KEYS)}, got {value!r:.80}")
    missing = [key for key in FC_BN_KEYS if key not in value]
    if missing:
        raise WrongType(f"FC_BN_PARAMS has no key {', '.join(map(repr, missing))}: it needs {list(FC_BN_KEYS)}")
    notes: list[str] = []
    actual = {key: as_int(value[key], what=f"FC_BN_PARAMS[{key!r}]", notes=notes) for key in FC_BN_KEYS}
    answer = trusted.value(Q, "fc_bn_params")  # the kit has none: CheckedByTA, once the form is checked
    check.observe("fc_bn_params", actual=actual, answer=answer, mistakes=trusted.value(Q, "mistakes.fc_bn_params"),
                  representations=notes)


@pytest.mark.check("q6.q6a")
def test_q6a_answer(student, trusted, check):
    answer = as_int(student.get("Q6A_ANSWER"), what="Q6A_ANSWER (the number of the true statement)")
    check.observe("q6a", actual=answer, answer=trusted.value(Q, "q6a_answer"))
