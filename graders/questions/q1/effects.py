"""Whether each q1 hyperparameter takes effect in the model `build_model(hp)` builds.

The corner_build probe describes each built model as plain data (its Conv2D, Dense and Dropout
layers in order, and the optimizer's learning rate). Here each family's values at a build are
compared with what the model has: the number of Conv2D and hidden Dense layers, each conv's
filters and kernel size, each hidden dense's units, the dropout rates after the convolutions,
and the learning rate (a schedule's initial rate: a schedule that starts at the tuned rate is the tuned
rate). A declared hyperparameter whose value the model does not show fails
its own family, with a message naming it; nothing else about the model is judged here.

Layer lists are compared leniently where another family explains a difference: when a model
has more (or fewer) conv layers than conv_layers asks for, `filters` only needs its values to
appear in order among the convs (so one wrong layer count is one lost check, not three). A
rate of 0.0 may be left out (`if rate > 0: model.add(Dropout(rate))` is the same model).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from graders.questions.q1 import points, space


@dataclass(frozen=True)
class Build:
    """One build at a point of the space and what the probe saw in the model."""

    label: str  # "min", "max", "mix"
    values: dict
    bases: dict = field(default_factory=dict)  # {family: 0 or 1}, the student's first layer index
    layers: tuple = ()  # ({"class", "kind", "filters"/"kernel"/"units"/"rate"}, ...) in model order
    learning_rate: float | None = None  # a schedule's initial rate
    learning_rate_problem: str | None = None  # "not compiled", "unreadable (...)", ...
    learning_rate_schedule: str | None = None  # the schedule's class name; None for a constant rate

    @classmethod
    def from_probe(cls, label: str, values: dict, bases: dict, result: dict) -> "Build | None":
        """A Build from the corner_build probe's result; None when the model was not built."""
        if not isinstance(result, dict) or result.get("error") or not isinstance(result.get("layers"), list):
            return None
        layers = tuple(layer for layer in result["layers"] if isinstance(layer, dict))
        rate = result.get("learning_rate")
        rate = float(rate) if _is_number(rate) else None
        problem, schedule = result.get("learning_rate_problem"), result.get("learning_rate_schedule")
        return cls(label, dict(values), dict(bases), layers, rate, None if problem is None else str(problem)[:200],
                   None if schedule is None else str(schedule)[:80])

    def kind(self, kind: str) -> list[dict]:
        return [layer for layer in self.layers if layer.get("kind") == kind]

    def head_dropout_rates(self) -> list[float]:
        """Rates of the Dropout layers after the last Conv2D (the dense head), in order."""
        kinds = [layer.get("kind") for layer in self.layers]
        start = max((i for i, kind in enumerate(kinds) if kind == "conv"), default=-1) + 1
        return [float(layer["rate"]) for layer in self.layers[start:]
                if layer.get("kind") == "dropout" and _is_number(layer.get("rate"))]


def family_effect(name: str, builds: list[Build], *, learning_rate_rtol: float) -> str:
    """"" when family `name` takes effect in every build, else a sentence naming it and the build
    where the model does not show its value."""
    label = space.FAMILIES[name].label
    observed = [(build, *_observe(name, build, learning_rate_rtol)) for build in builds]
    observed = [entry for entry in observed if entry[1] is not None]  # the builds that tell something
    misses = [entry for entry in observed if not entry[3]]
    if not misses:
        return ""
    build, expected, actual, _ = misses[0]
    uniform = _uniform(name, builds)
    constant = len({entry[2] for entry in observed}) == 1 and len({entry[1] for entry in observed}) > 1
    whatever = f", whatever {label} is ({', '.join(entry[1] for entry in observed)})"
    if uniform or constant:
        return f"{label} is declared but has no effect: {uniform or f'the model has {actual} at every build'}{whatever}"
    return (f"{label} is declared but does not take effect as it should: with {label}={expected} (the "
            f"{build.label} build) the model has {actual}")


def _uniform(name: str, builds: list[Build]) -> str:
    """"every Conv2D kernel is 3x3" when a per-layer family's layers are all alike in every build."""
    kind, attribute, what = {"filters": ("conv", "filters", "Conv2D has {} filters"),
                             "kernel": ("conv", "kernel", "Conv2D kernel is {}"),
                             "units": ("dense", "units", "hidden Dense layer has {} units")}.get(name, (None,) * 3)
    if kind is None:
        return ""
    seen = set()
    for build in builds:
        layers = build.kind(kind)[:-1] if kind == "dense" else build.kind(kind)
        seen |= {str(_kernel_text(_kernel(layer.get(attribute))) if name == "kernel" else layer.get(attribute))
                 for layer in layers}
    return f"every {what.format(seen.pop())}" if len(seen) == 1 and len(builds) > 1 else ""


def _observe(name: str, build: Build, learning_rate_rtol: float):
    """(expected as text, actual as text, whether they match); (None, None, True) without evidence."""
    if name == "learning_rate":
        return _learning_rate(build, learning_rate_rtol)
    compare = {"conv_layers": _conv_layers, "dense_layers": _dense_layers, "filters": _filters,
               "kernel": _kernels, "units": _units, "dropout": _dropout}[name]
    return compare(build)


# -- one family at one build: (expected as text, actual as text, matches) ----------------------

def _conv_layers(build: Build):
    expected, actual = int(build.values["conv_layers"]), len(build.kind("conv"))
    return f"{expected}", f"{actual} Conv2D layer{'s' * (actual != 1)}", actual == expected


def _dense_layers(build: Build):
    expected, actual = int(build.values["dense_layers"]), max(len(build.kind("dense")) - 1, 0)
    return (f"{expected}", f"{actual} hidden Dense layer{'s' * (actual != 1)} before the output layer",
            actual == expected)


def _filters(build: Build):
    expected = points.layer_values(build.values, "filters", build.bases)
    actual = [layer.get("filters") for layer in build.kind("conv")]
    return (_joined(expected), f"Conv2D filters {_joined(actual)}",
            _in_order(expected, actual, lambda a, b: a == b))


def _kernels(build: Build):
    expected = points.layer_values(build.values, "kernel", build.bases)
    actual = [_kernel(layer.get("kernel")) for layer in build.kind("conv")]
    return (_joined(expected), "Conv2D kernels " + "/".join(_kernel_text(k) for k in actual),
            _in_order(expected, actual, lambda want, got: got == (want, want)))


def _units(build: Build):
    expected = points.layer_values(build.values, "units", build.bases)
    actual = [layer.get("units") for layer in build.kind("dense")[:-1]]  # the last Dense is the output layer
    return (_joined(expected), f"hidden Dense units {_joined(actual) or '(none)'}",
            _in_order(expected, actual, lambda a, b: a == b))


def _dropout(build: Build):
    expected = points.layer_values(build.values, "dropout", build.bases)
    actual = build.head_dropout_rates()
    needed = [rate for rate in expected if _is_number(rate) and rate > 0]
    ok = _is_subsequence(needed, actual, lambda want, got: math.isclose(want, got, abs_tol=1e-6))
    return _joined(expected), f"Dropout rates {_joined(actual) or '(none)'} after the convolutions", ok


def _learning_rate(build: Build, rtol: float):
    expected = build.values["learning_rate"]
    if build.learning_rate_problem == "not compiled":
        return None, None, True  # the corner check says so; it is no evidence about the learning rate
    wanted = f"{expected:g}"
    if build.learning_rate_problem:
        return wanted, f"an optimizer whose learning rate is {build.learning_rate_problem}", False
    if build.learning_rate is None:
        return wanted, "an optimizer whose learning rate could not be read", False
    schedule = f" (a {build.learning_rate_schedule} starting at it)" if build.learning_rate_schedule else ""
    return (wanted, f"an optimizer with learning rate {build.learning_rate:g}{schedule}",
            math.isclose(build.learning_rate, expected, rel_tol=rtol))


# -- helpers ------------------------------------------------------------------------------------

def _in_order(expected: list, actual: list, same) -> bool:
    """Each layer's value in order; with a layer count that differs (another family's mistake),
    the shorter list only has to appear in order within the longer."""
    if len(actual) >= len(expected):
        return _is_subsequence(expected, actual, same)
    return _is_subsequence(actual, expected, lambda got, want: same(want, got))


def _is_subsequence(needed: list, within: list, same) -> bool:
    position = 0
    for want in needed:
        while position < len(within) and not same(want, within[position]):
            position += 1
        if position == len(within):
            return False
        position += 1
    return True


def _kernel(value):
    if isinstance(value, list) and all(isinstance(k, int) for k in value):
        return tuple(value)
    return None


def _kernel_text(kernel) -> str:
    return "x".join(str(k) for k in kernel) if kernel else "?"


def _joined(values: list) -> str:
    return "/".join(space.number(v) if _is_number(v) else "?" for v in values)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
