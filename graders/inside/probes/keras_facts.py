"""What a Keras model says about itself, read the same way by every probe (run inside the worker):
its layers, activations and learning rate, and the one-line cause of a Keras or KerasTuner error
(`student_cause` adds where the student's code raised it, which the grader turns into the
student's cell and line: graders/submission/explain.py `explain_causes`).
"""

from __future__ import annotations

import math
import os
import re
import traceback

import keras

MAX_CAUSE_CHARS = 400
# Lines of a Keras error that name no cause: the cause is on a later line.
_CONTEXT_PREFIXES = ("Exception encountered when calling", "Arguments received by", "Traceback", "File ",
                     "During handling", "The above exception")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt)):?\s*(.*)$")
_TRACE_FILE = re.compile(r'File "(?P<file>[^"\n]+)", line (?P<line>\d+)')
# The worker's folder (graders/sandbox/workdir.py): the probes in _harness/probes/, the submission in
# submission/. Outside a worker (probes imported by the grader's own tests) there is no student frame.
_HARNESS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SUBMISSION_DIR = (os.path.join(os.path.dirname(_HARNESS), "submission")
                  if os.path.basename(_HARNESS) == "_harness" else None)


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


def student_cause(error) -> str:
    """`one_line(error)`, then where the student's code raised it: "... (in hw3_ipynb.py, line 24)".

    The place is the innermost frame in the submission's files (of an exception, or of a formatted
    traceback such as KerasTuner's trial message), named as the worker names the file; the grader
    reads it back as the student's own cell and line. Without such a frame, `one_line(error)`.
    """
    cause = one_line(error)
    place = _student_place(error)
    return f"{cause} (in {place[0]}, line {place[1]})" if place else cause


def _student_place(error) -> tuple[str, int] | None:
    if SUBMISSION_DIR is None:
        return None
    if isinstance(error, BaseException):
        frames = [(frame.filename, frame.lineno) for frame in traceback.extract_tb(error.__traceback__)]
    else:
        frames = [(match["file"], int(match["line"])) for match in _TRACE_FILE.finditer(str(error))]
    inside = [(os.path.relpath(name, SUBMISSION_DIR), line) for name, line in frames
              if isinstance(name, str) and name.startswith(SUBMISSION_DIR + os.sep) and line]
    return inside[-1] if inside else None


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


def initial_learning_rate(optimizer):
    """(rate, schedule, problem): the learning rate the optimizer starts with, the class name of its
    schedule (None for a constant rate), and why the rate cannot be read (None when it can).

    A schedule's initial rate is its value at step 0, whatever kind of schedule it is.
    """
    if optimizer is None:
        return None, None, "not compiled"
    optimizer = getattr(optimizer, "inner_optimizer", None) or optimizer
    raw = getattr(optimizer, "_learning_rate", None)
    if isinstance(raw, keras.optimizers.schedules.LearningRateSchedule):
        name = type(raw).__name__
        try:
            value = float(keras.ops.convert_to_numpy(raw(0)))
        except Exception as exc:  # noqa: BLE001 - a student's schedule
            return None, name, f"a schedule ({name}) whose rate at step 0 cannot be read ({one_line(exc)})"
        return (value, name, None) if math.isfinite(value) else (None, name, f"a schedule ({name}) starting at {value}")
    rate, problem = learning_rate(optimizer)
    return rate, None, problem


ACCURACIES = ("acc", "accuracy", "sparse_categorical_accuracy", "categorical_accuracy")
_ACCURACY_CLASSES = ("Accuracy", "SparseCategoricalAccuracy", "CategoricalAccuracy")


def loss_facts(loss) -> tuple[str | None, bool | None]:
    """(the loss's name, its from_logits or None when it has none) for a name, a function or a Loss."""
    if loss is None or isinstance(loss, str):
        return loss, None
    config = loss.get_config() if hasattr(loss, "get_config") else {}
    name = type(loss).__name__ if hasattr(loss, "get_config") else getattr(loss, "__name__", repr(loss)[:80])
    from_logits = config.get("from_logits") if isinstance(config, dict) else None
    return name, from_logits if isinstance(from_logits, bool) else None


def wants_one_hot_labels(model) -> bool:
    """Whether the model's loss is categorical cross-entropy for one-hot labels (not the sparse one)."""
    name = str(loss_facts(getattr(model, "loss", None))[0]).lower().replace("_", "")
    return name.endswith("categoricalcrossentropy") and "sparse" not in name


def accuracy_metrics(model) -> list[str]:
    """The names under which the compiled model logs an accuracy ("acc" for metrics=["acc"])."""
    try:
        metrics = model.get_compile_config().get("metrics")
    except Exception:  # noqa: BLE001 - not compiled, or a student's model that cannot say
        return []
    names, pending = [], [metrics]
    while pending and len(names) < 20:
        item = pending.pop(0)
        if isinstance(item, (list, tuple)):
            pending.extend(item)
        elif isinstance(item, dict) and "class_name" not in item:
            pending.extend(item.values())
        elif isinstance(item, str) and item in ACCURACIES:
            names.append(item)
        elif isinstance(item, dict) and item.get("class_name") in _ACCURACY_CLASSES:
            name = (item.get("config") or {}).get("name")
            names.append(str(name) if name else str(item["class_name"]))
    return names


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
