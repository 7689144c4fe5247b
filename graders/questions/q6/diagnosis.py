"""Name the known BatchNorm mistake that a wrong `batchnorm_forward` result is closest to.

Each mistake is the reference forward pass with one thing done wrong. A student's result
`(y, new_moving_mean, new_moving_var)` is compared with every mistake's result on the same
inputs, under the check's own tolerance; the nearest one is named in the failure message.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

SHAPE_MISMATCH = 50.0  # the distance of an output of the wrong shape: beyond any numeric difference
DEFAULT_MOMENTUM, DEFAULT_EPSILON = 0.99, 1e-3  # the contract's defaults, as in Keras


@dataclass(frozen=True)
class Mistake:
    """One wrong way to compute BatchNorm, and how a student is told about it."""

    name: str
    explanation: str
    ddof: int = 0  # variance divisor N - ddof, in the normalisation and the moving update
    moving_ddof: int = 0  # the divisor in the moving update only (PyTorch's running_var)
    epsilon_outside_sqrt: bool = False
    axes: str = "batch"  # "batch": all but the last axis; "features": the last axis; "first": axis 0
    batch_stats_at_inference: bool = False
    moving_stats_in_training: bool = False
    # "keras", "none" (not updated), "reversed" (momentum weighs the batch), "always" (at inference too)
    update: str = "keras"
    epsilon_in_moving_variance: bool = False  # the moving variance moves towards var + epsilon
    ignores: str = ""  # "momentum" or "epsilon": that argument is ignored and its default used
    one_pass_variance: bool = False  # mean(x**2) - mean(x)**2, in the input's precision
    float32: bool = False  # everything computed in float32


# Order matters on ties: a check that compares only the moving statistics cannot tell the two
# unbiased variances apart, and names the one it sees.
MISTAKES = (
    Mistake("unbiased variance in the moving update", "the moving variance is updated with the unbiased "
            "(N - 1) batch variance, as PyTorch does; Keras uses the biased one (divided by N)", moving_ddof=1),
    Mistake("unbiased variance", "the batch variance is divided by N - 1 (unbiased); BatchNormalization "
            "divides by N (the biased variance), both to normalise and in the moving update", ddof=1),
    Mistake("epsilon outside the square root", "epsilon is added to the standard deviation; it belongs "
            "inside the square root: (x - mean) / sqrt(var + epsilon)", epsilon_outside_sqrt=True),
    Mistake("the wrong axis (per sample)", "the statistics are taken over the feature axis of each sample; "
            "BatchNorm averages over the batch, one mean and variance per feature", axes="features"),
    Mistake("the wrong axis (batch axis only)", "for (N, H, W, C) inputs the statistics are taken over "
            "axis 0 only; BatchNorm averages over N, H and W, one mean and variance per channel", axes="first"),
    Mistake("batch statistics used at inference", "in inference mode (training=False) the output must "
            "be normalised with the moving mean and variance, not with the batch's own statistics",
            batch_stats_at_inference=True),
    Mistake("moving statistics used in training", "in training mode the output must be normalised with "
            "the batch's own mean and variance, not the moving ones", moving_stats_in_training=True),
    Mistake("moving statistics not updated", "in training mode the moving mean and variance must move "
            "towards the batch statistics: new = momentum * moving + (1 - momentum) * batch", update="none"),
    Mistake("momentum convention reversed", "momentum weighs the OLD moving value (Keras): new = momentum "
            "* moving + (1 - momentum) * batch; this is PyTorch's reversed convention", update="reversed"),
    Mistake("epsilon folded into the moving variance", "epsilon belongs in the normalisation only: the moving "
            "variance moves towards the batch variance itself, not towards variance + epsilon",
            epsilon_in_moving_variance=True),
    Mistake("moving statistics updated at inference", "in inference mode (training=False) the moving mean and "
            "variance are returned unchanged; only training updates them", update="always"),
    Mistake("momentum ignored", "the momentum argument must be used; the update uses the default 0.99 whatever "
            "momentum is passed", ignores="momentum"),
    Mistake("epsilon ignored", "the epsilon argument must be used; the normalisation uses the default 1e-3 "
            "whatever epsilon is passed", ignores="epsilon"),
    Mistake("variance as mean(x**2) - mean(x)**2", "this formula loses all precision for large inputs in "
            "float32; compute the mean of the squared deviations, mean((x - mean)**2)", one_pass_variance=True),
    Mistake("computed in float32", "the inputs are float64 and lose precision when cast to float32 "
            "(say by TensorFlow ops): compute in NumPy, in the inputs' precision or float64", float32=True),
)


def mistaken_forward(mistake: Mistake, x, gamma, beta, moving_mean, moving_var, *, training: bool,
                     momentum: float, epsilon: float):
    """The forward pass done with `mistake`.

    Returns:
        `(y, new_moving_mean, new_moving_var)` as float64 arrays, or None when the mistake
        cannot run on these inputs (its statistics do not broadcast against the parameters).
    """
    if mistake.ignores:
        momentum, epsilon = {"momentum": (DEFAULT_MOMENTUM, epsilon), "epsilon": (momentum, DEFAULT_EPSILON)}[
            mistake.ignores]
    dtype = np.float32 if mistake.float32 else np.float64
    x_in = np.asarray(x)
    x, gamma, beta = (np.asarray(a, dtype=dtype) for a in (x, gamma, beta))
    moving_mean, moving_var = np.asarray(moving_mean, dtype=dtype), np.asarray(moving_var, dtype=dtype)
    axes = {"batch": tuple(range(x.ndim - 1)), "features": (x.ndim - 1,), "first": (0,)}[mistake.axes]
    with np.errstate(all="ignore"):
        try:
            mean, var, moving_update_var = _batch_statistics(mistake, x, x_in, axes)
            if mistake.epsilon_in_moving_variance:
                moving_update_var = moving_update_var + epsilon
            if training:
                new_mean, new_var = _moving_update(mistake, moving_mean, moving_var, mean, moving_update_var,
                                                   momentum)
                if mistake.moving_stats_in_training:
                    mean, var = moving_mean, moving_var
            else:
                new_mean, new_var = moving_mean, moving_var
                if mistake.update == "always":
                    new_mean, new_var = _moving_update(mistake, moving_mean, moving_var, mean, moving_update_var,
                                                       momentum)
                if not mistake.batch_stats_at_inference:
                    mean, var = moving_mean, moving_var
            scale = np.sqrt(var) + epsilon if mistake.epsilon_outside_sqrt else np.sqrt(var + epsilon)
            y = gamma * (x - mean) / scale + beta
            return tuple(np.asarray(a, dtype=np.float64) for a in (y, new_mean, new_var))
        except ValueError:  # shapes that do not broadcast
            return None


def _batch_statistics(mistake: Mistake, x, x_in, axes):
    """(mean, variance to normalise with, variance for the moving update); `x_in` is the input as given,
    whose own precision a one-pass variance is computed in."""
    keepdims = mistake.axes == "features"
    if mistake.one_pass_variance:
        x_native = x_in if x_in.dtype.kind == "f" else x
        mean = x_native.mean(axis=axes, keepdims=keepdims)
        var = (x_native * x_native).mean(axis=axes, keepdims=keepdims) - mean * mean
        return mean.astype(x.dtype), var.astype(x.dtype), var.astype(x.dtype)
    mean = x.mean(axis=axes, keepdims=keepdims)
    squares = ((x - mean) ** 2).sum(axis=axes, keepdims=keepdims)
    count = x.size // squares.size
    var = squares / (count - mistake.ddof)
    return mean, var, squares / (count - max(mistake.ddof, mistake.moving_ddof))


def _moving_update(mistake: Mistake, moving_mean, moving_var, mean, var, momentum):
    # With the wrong axis the update broadcasts to the statistics' shape, as a student's code would.
    if mistake.update == "none":
        return moving_mean, moving_var
    keep = 1.0 - momentum if mistake.update == "reversed" else momentum
    return keep * moving_mean + (1.0 - keep) * mean, keep * moving_var + (1.0 - keep) * var


def closest_mistake(actual, inputs: dict, *, expected, tolerances, parts=(0, 1, 2)):
    """The known mistake nearest to the student's `actual` result, if nearer than the right answer.

    Args:
        actual: the student's outputs that the check compares (arrays already type-checked).
        inputs: the keyword arguments of the call (x, gamma, ..., training, momentum, epsilon).
        expected: the reference's outputs on the same inputs, the same parts.
        tolerances: (atol, rtol) of each part, the check's own: a mistake "matches" within them.
        parts: which of (y, new_moving_mean, new_moving_var) `actual` and `expected` hold.

    Returns:
        `(mistake, matches)`, or None when no mistake is closer than the right answer.
    """
    reference_distance = _distance(actual, expected, tolerances)
    best, best_distance = None, reference_distance
    for mistake in MISTAKES:
        result = mistaken_forward(mistake, **inputs)
        if result is not None:
            result = [result[index] for index in parts]
        if result is None or _same_result(result, expected, tolerances):
            continue  # a mistake that changes nothing on these inputs says nothing
        distance = _distance(actual, result, tolerances)
        if distance < best_distance:
            best, best_distance = mistake, distance
    if best is None:
        return None
    return best, best_distance == 0.0


def _same_result(result, expected, tolerances) -> bool:
    return _distance(result, expected, tolerances) == 0.0


def _distance(actual, expected, tolerances) -> float:
    """Sum over the outputs of log(1 + how many tolerances apart); 0 when all are within tolerance."""
    total = 0.0
    for got, want, (atol, rtol) in zip(actual, expected, tolerances):
        got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
        if got.shape != want.shape:
            total += SHAPE_MISMATCH
            continue
        with np.errstate(all="ignore"):
            excess = (np.abs(got - want) - atol - rtol * np.abs(want)) / (atol + rtol * np.abs(want))
        both_nan = np.isnan(got) & np.isnan(want)
        excess = np.where(both_nan, 0.0, np.where(np.isnan(excess), np.inf, excess))
        total += math.log1p(max(float(np.max(excess, initial=0.0)), 0.0))
    return total


def describe(diagnosis) -> str:
    """The sentence a failure message ends with, for the result of `closest_mistake`."""
    if diagnosis is None:
        return ""
    mistake, matches = diagnosis
    lead = "This matches a known mistake" if matches else "The closest known mistake"
    return f"\n{lead}: {mistake.name}: {mistake.explanation}."
