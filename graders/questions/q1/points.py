"""Points of q1's search space: the values a grader builds the student's model at, and how a
message shows them. A point names every layer's value (filters_0 ... filters_5); per-layer names
follow the index base the student declared (0 or 1)."""

from __future__ import annotations

from graders.questions.q1.space import FAMILIES, MAX_LAYERS, SPACE, family_of, number


def expand(by_family: dict) -> dict:
    """Hyperparameter values from one value per family: a per-layer family gives every layer that
    value, under the names of both index bases (filters_0 ... filters_5)."""
    values = {}
    for name, value in by_family.items():
        family = FAMILIES[name]
        if family.per:
            values.update({f"{name}_{i}": value for i in range(MAX_LAYERS[family.per] + 1)})
        else:
            values[name] = value
    return values


def point(*, conv_layers, filters, kernel, dense_layers, units, dropout, learning_rate) -> dict:
    """The values of one point of the whole space (see `expand`)."""
    return expand({"conv_layers": conv_layers, "filters": filters, "kernel": kernel, "dense_layers": dense_layers,
                   "units": units, "dropout": dropout, "learning_rate": learning_rate})


def layered_point(layers: dict, single: dict, bases: dict[str, int]) -> dict:
    """A point whose per-layer values differ from layer to layer.

    Args:
        layers: {family: [value of layer 0, value of layer 1, ...]}; the layer count of its
            family is the list's length.
        single: {family: value} of the families without layers (learning_rate).
        bases: {family: 0 or 1}, the index the student's names start at (default 0).
    """
    values = dict(single)
    for name, per_layer in layers.items():
        family = FAMILIES[name]
        values[family.per] = len(per_layer)
        base = bases.get(name, 0)
        values.update({f"{name}_{base + i}": value for i, value in enumerate(per_layer)})
    return values


def layer_values(values: dict, name: str, bases: dict[str, int]) -> list:
    """The value of family `name` for each layer a point has, in layer order."""
    family = FAMILIES[name]
    base = bases.get(name, 0)
    return [values.get(f"{name}_{base + i}") for i in range(int(values[family.per]))]


def zero_based(values: dict) -> dict:
    """`values` with per-layer names counted from 0, as the reference names them (units_1 -> units_0
    for a family whose indices start at 1)."""
    shifted = dict(values)
    for family in SPACE:
        if family.per:
            indices = sorted(int(n.rpartition("_")[2]) for n in values if family_of(n) is family)
            if indices and indices[0] == 1:
                for i in indices:
                    shifted[f"{family.name}_{i - 1}"] = values[f"{family.name}_{i}"]
                shifted.pop(f"{family.name}_{indices[-1]}")
    return shifted


def point_text(values: dict, bases: dict[str, int] | None = None) -> str:
    """The point's spec-level values, e.g. "conv_layers=2, filters_{i}=32, ..." (per layer when they
    differ: "filters_{i}=64/128/32"), for messages."""
    shown = []
    for family in SPACE:
        if not family.per:
            shown.append((family.label, values.get(family.name)))
            continue
        count = values.get(family.per)
        per_layer = layer_values(values, family.name, bases or {}) if isinstance(count, int) else []
        if len(set(per_layer)) > 1:
            shown.append((family.label, "/".join(number(v) for v in per_layer)))
        else:
            shown.append((family.label, per_layer[0] if per_layer else values.get(f"{family.name}_0")))
    return ", ".join(f"{label}={value if isinstance(value, str) else number(value)}"
                     for label, value in shown if value is not None)
