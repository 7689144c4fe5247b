"""What a Keras model says about itself, read the same way by every probe (run inside the worker):
its layers, activations and learning rate, and the one-line cause of a Keras or KerasTuner error.
"""

from __future__ import annotations

import math
import re

import keras

MAX_CAUSE_CHARS = 400
# Lines of a Keras error that name no cause: the cause is on a later line.
_CONTEXT_PREFIXES = ("Exception encountered when calling", "Arguments received by", "Traceback", "File ",
                     "During handling", "The above exception")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt)):?\s*(.*)$")


def one_line(error) -> str:
    """The one line of an exception (or of a formatted traceback) that says what went wrong."""
    if isinstance(error, BaseException):
        kind, text = type(error).__name__, str(error)
    else:
        kind, text = _last_exception(str(error))
    lines = [line.strip() for line in _ANSI.sub("", text).splitlines() if line.strip()]
    causes = [line for line in lines if not line.startswith(_CONTEXT_PREFIXES)] or lines or [""]
    cause = f"{kind}: {causes[0]}" if kind and causes[0] else kind or causes[0]
    return cause[:MAX_CAUSE_CHARS]


def _last_exception(trace: str) -> tuple[str, str]:
    """(type name, message) of the last exception in a traceback text (KerasTuner's trial.message)."""
    lines = trace.splitlines()
    for index in range(len(lines) - 1, -1, -1):
        match = _EXCEPTION_LINE.match(lines[index])
        if match:
            return match.group(1).rsplit(".", 1)[-1], "\n".join([match.group(2), *lines[index + 1:]])
    return "", trace


def learning_rate(optimizer):
    """(the optimizer's constant learning rate, None) or (None, why there is none)."""
    if optimizer is None:
        return None, "not compiled"
    optimizer = getattr(optimizer, "inner_optimizer", None) or optimizer  # a LossScaleOptimizer's own
    raw = getattr(optimizer, "_learning_rate", None)
    if isinstance(raw, keras.optimizers.schedules.LearningRateSchedule):
        return None, f"a schedule ({type(raw).__name__})"
    if callable(raw) and not isinstance(raw, keras.Variable):
        return None, f"a callable ({type(raw).__name__})"
    try:
        value = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
    except Exception as exc:  # noqa: BLE001 - a custom optimizer
        return None, f"unreadable ({one_line(exc)})"
    return (value, None) if math.isfinite(value) else (None, f"not a finite number ({value})")


def flat_layers(model, depth: int = 0) -> list:
    """The model's layers in order, nested models flattened (8 levels at most), input layers left out."""
    layers = []
    for layer in getattr(model, "layers", []) or []:
        if isinstance(layer, keras.Model) and depth < 8:
            layers += flat_layers(layer, depth + 1)
        elif not isinstance(layer, keras.layers.InputLayer):
            layers.append(layer)
    return layers


def activation_name(layer) -> str | None:
    """The name of a layer's activation function (its class name for an object), or None."""
    activation = getattr(layer, "activation", None)
    return None if activation is None else str(getattr(activation, "__name__", type(activation).__name__))
