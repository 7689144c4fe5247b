"""q6's trusted computations (graders/core/trusted.py): the reference's forward pass and what each known
mistake (mistakes.py) computes on the grader's inputs, and the seed-independent answers.

With the other questions' trusted modules, the only code of the grader that imports reference/ or
computes a BatchNorm; the student kit holds the recorded values of the public seed's calls, and never
`fc_bn_params` or `q6a_answer` (nor their known mistakes' values, which give them away).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reference import q6_batchnorm as ref

DEFAULT_MOMENTUM, DEFAULT_EPSILON = 0.99, 1e-3  # the contract's defaults, as in Keras


@dataclass(frozen=True)
class Flags:
    """One wrong way to compute BatchNorm: the reference forward pass with one thing changed."""

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


# By the names of mistakes.MISTAKES, in its order.
FLAGS = {
    "unbiased variance in the moving update": Flags(moving_ddof=1),
    "unbiased variance": Flags(ddof=1),
    "epsilon outside the square root": Flags(epsilon_outside_sqrt=True),
    "the wrong axis (per sample)": Flags(axes="features"),
    "the wrong axis (batch axis only)": Flags(axes="first"),
    "batch statistics used at inference": Flags(batch_stats_at_inference=True),
    "moving statistics used in training": Flags(moving_stats_in_training=True),
    "moving statistics not updated": Flags(update="none"),
    "momentum convention reversed": Flags(update="reversed"),
    "epsilon folded into the moving variance": Flags(epsilon_in_moving_variance=True),
    "moving statistics updated at inference": Flags(update="always"),
    "momentum ignored": Flags(ignores="momentum"),
    "epsilon ignored": Flags(ignores="epsilon"),
    "variance as mean(x**2) - mean(x)**2": Flags(one_pass_variance=True),
    "computed in float32": Flags(float32=True),
}


def mistaken_forward(flags: Flags, x, gamma, beta, moving_mean, moving_var, *, training: bool,
                     momentum: float = DEFAULT_MOMENTUM, epsilon: float = DEFAULT_EPSILON):
    """The forward pass done with the mistake `flags`.

    Returns:
        `(y, new_moving_mean, new_moving_var)` as float64 arrays, or None when the mistake
        cannot run on these inputs (its statistics do not broadcast against the parameters).
    """
    if flags.ignores:
        momentum, epsilon = {"momentum": (DEFAULT_MOMENTUM, epsilon), "epsilon": (momentum, DEFAULT_EPSILON)}[
            flags.ignores]
    dtype = np.float32 if flags.float32 else np.float64
    x_in = np.asarray(x)
    x, gamma, beta = (np.asarray(a, dtype=dtype) for a in (x, gamma, beta))
    moving_mean, moving_var = np.asarray(moving_mean, dtype=dtype), np.asarray(moving_var, dtype=dtype)
    axes = {"batch": tuple(range(x.ndim - 1)), "features": (x.ndim - 1,), "first": (0,)}[flags.axes]
    with np.errstate(all="ignore"):
        try:
            mean, var, moving_update_var = _batch_statistics(flags, x, x_in, axes)
            if flags.epsilon_in_moving_variance:
                moving_update_var = moving_update_var + epsilon
            if training:
                new_mean, new_var = _moving_update(flags, moving_mean, moving_var, mean, moving_update_var, momentum)
                if flags.moving_stats_in_training:
                    mean, var = moving_mean, moving_var
            else:
                new_mean, new_var = moving_mean, moving_var
                if flags.update == "always":
                    new_mean, new_var = _moving_update(flags, moving_mean, moving_var, mean, moving_update_var,
                                                       momentum)
                if not flags.batch_stats_at_inference:
                    mean, var = moving_mean, moving_var
            scale = np.sqrt(var) + epsilon if flags.epsilon_outside_sqrt else np.sqrt(var + epsilon)
            y = gamma * (x - mean) / scale + beta
            return tuple(np.asarray(a, dtype=np.float64) for a in (y, new_mean, new_var))
        except ValueError:  # shapes that do not broadcast
            return None


def _batch_statistics(flags: Flags, x, x_in, axes):
    """(mean, variance to normalise with, variance for the moving update); `x_in` is the input as given,
    whose own precision a one-pass variance is computed in."""
    keepdims = flags.axes == "features"
    if flags.one_pass_variance:
        x_native = x_in if x_in.dtype.kind == "f" else x
        mean = x_native.mean(axis=axes, keepdims=keepdims)
        var = (x_native * x_native).mean(axis=axes, keepdims=keepdims) - mean * mean
        return mean.astype(x.dtype), var.astype(x.dtype), var.astype(x.dtype)
    mean = x.mean(axis=axes, keepdims=keepdims)
    squares = ((x - mean) ** 2).sum(axis=axes, keepdims=keepdims)
    count = x.size // squares.size
    var = squares / (count - flags.ddof)
    return mean, var, squares / (count - max(flags.ddof, flags.moving_ddof))


def _moving_update(flags: Flags, moving_mean, moving_var, mean, var, momentum):
    # With the wrong axis the update broadcasts to the statistics' shape, as a student's code would.
    if flags.update == "none":
        return moving_mean, moving_var
    keep = 1.0 - momentum if flags.update == "reversed" else momentum
    return keep * moving_mean + (1.0 - keep) * mean, keep * moving_var + (1.0 - keep) * var


def _forward_with(flags: Flags):
    def forward(x, gamma, beta, moving_mean, moving_var, *, training, momentum=DEFAULT_MOMENTUM,
                epsilon=DEFAULT_EPSILON):
        return mistaken_forward(flags, x, gamma, beta, moving_mean, moving_var, training=training,
                                momentum=momentum, epsilon=epsilon)

    return forward


FUNCTIONS = {"batchnorm_forward": {name: _forward_with(flags) for name, flags in FLAGS.items()}}


def _reference(**call):
    return tuple(np.asarray(output, dtype=np.float64) for output in ref.batchnorm_forward(**call))


def _mistakes(**call) -> dict:
    """{mistake name: its (y, new_moving_mean, new_moving_var) on this call, or None where it cannot run}."""
    return {name: forward(**call) for name, forward in FUNCTIONS["batchnorm_forward"].items()}


# FC_BN_PARAMS's known mistakes (mistakes.FC_BN_MISTAKES): the keys each one gets wrong, and their values.
def _fc_bn_mistakes() -> dict:
    right = ref.FC_BN_PARAMS
    units = right["bn_trainable"] // 2  # one gamma and one beta per feature
    inputs = (right["fc"] - units) // units
    return {"no bias": {"fc": inputs * units}, "a bias per input": {"fc": inputs * units + inputs},
            "every BatchNorm vector counted as trainable": {"bn_trainable": 4 * units, "bn_non_trainable": 0},
            "one BatchNorm vector per kind": {"bn_trainable": units, "bn_non_trainable": units}}


COMPUTE = {
    "batchnorm_forward": _reference,
    "mistakes.batchnorm_forward": _mistakes,
    "fc_bn_params": lambda: dict(ref.FC_BN_PARAMS),
    "mistakes.fc_bn_params": _fc_bn_mistakes,
    "q6a_answer": lambda: int(ref.Q6A_ANSWER),
}
ANSWERS = frozenset({"fc_bn_params", "mistakes.fc_bn_params", "q6a_answer"})  # seed-independent: never recorded
