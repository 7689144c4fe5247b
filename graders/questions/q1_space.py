"""q1's search space as DESIGN.md specifies it, and how a student's declared space differs from it.

A family is one hyperparameter (`conv_layers`) or one per layer (`filters_{i}`: filters_0 ...
filters_4 when conv_layers is 5; indices from 1 are accepted too). DESIGN.md gives no step for
filters and units, so any step is accepted there (the reference uses 32); sampling is not part
of the spec either. Every function returns differences as sentences a student can act on.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

LAYER_WORD = {"conv_layers": "conv layer", "dense_layers": "dense layer"}
# The Keras layer each per-layer family configures, to say how a once-declared one was used.
LAYER_CLASS = {"filters": "Conv2D", "kernel": "Conv2D", "units": "Dense", "dropout": "Dropout"}
# Name fragments of declarations that may be a family under another name (for hints only).
STEMS = {"conv_layers": ("conv",), "dense_layers": ("dense",), "learning_rate": ("learn", "lr"),
         "filters": ("filter",), "kernel": ("kernel",), "units": ("unit", "neuron"), "dropout": ("drop",)}


@dataclass(frozen=True)
class Family:
    """One family of the specified space."""

    name: str
    kind: str  # "Int", "Float" or "Choice"
    low: float | None = None
    high: float | None = None
    step: float | None = None  # None: any step is accepted
    choices: tuple = ()
    per: str | None = None  # the layer count it repeats with: one `{name}_{i}` per layer

    @property
    def label(self) -> str:
        return f"{self.name}_{{i}}" if self.per else self.name

    def text(self) -> str:
        if self.kind == "Choice":
            return "Choice {" + ", ".join(_number(c) for c in self.choices) + "}"
        step = f" step {_number(self.step)}" if self.step not in (None, 1) else ""
        return f"{self.kind} {_number(self.low)}..{_number(self.high)}{step}"

    def accepts(self, value) -> bool:
        """Whether `value` is a point of this family's range."""
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return False
        if self.kind == "Choice":
            return any(math.isclose(value, c, rel_tol=1e-9) for c in self.choices)
        if not self.low - 1e-9 <= value <= self.high + 1e-9:
            return False
        if self.kind == "Int" and not float(value).is_integer():
            return False
        if self.step is None:
            return True
        steps = (value - self.low) / self.step
        return math.isclose(steps, round(steps), abs_tol=1e-6)


SPACE = (
    Family("conv_layers", "Int", 2, 5, step=1),
    Family("filters", "Int", 32, 256, per="conv_layers"),
    Family("kernel", "Choice", choices=(3, 5), per="conv_layers"),
    Family("dense_layers", "Int", 2, 5, step=1),
    Family("units", "Int", 32, 256, per="dense_layers"),
    Family("dropout", "Float", 0.0, 0.5, step=0.1, per="dense_layers"),
    Family("learning_rate", "Choice", choices=(1e-4, 5e-4, 1e-3)),
)
FAMILIES = {family.name: family for family in SPACE}
MAX_LAYERS = {name: int(FAMILIES[name].high) for name in LAYER_WORD}


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


def point_text(values: dict) -> str:
    """The point's spec-level values, e.g. "conv_layers=2, filters_{i}=32, ...", for messages."""
    shown = [(f.label, values.get(f.name if not f.per else f"{f.name}_0")) for f in SPACE]
    return ", ".join(f"{label}={_number(value)}" for label, value in shown if value is not None)


# -- the declared space ----------------------------------------------------------------------

def describe(declared: dict) -> str:
    """A declared hyperparameter as text: "Int 32..128 step 32", "Choice {3}", "Float 0..0.5"."""
    kind = declared.get("type")
    if kind == "Choice":
        return "Choice {" + ", ".join(_number(v) for v in declared.get("values") or []) + "}"
    if kind == "Fixed":
        return f"Fixed {_number(declared.get('default'))}"
    if kind in ("Int", "Float"):
        step = declared.get("step")
        text = f"{kind} {_number(declared.get('min'))}..{_number(declared.get('max'))}"
        text += " (no step)" if kind == "Float" and step is None else "" if step in (None, 1) else f" step {_number(step)}"
        sampling = declared.get("sampling")
        return text + (f" ({sampling} sampling)" if sampling not in (None, "linear") else "")
    return str(kind)


def family_differences(family: Family, declared: dict[str, dict], layers: list[str]) -> list[str]:
    """How the student's declarations of `family` differ from the spec; empty when they match.

    Args:
        declared: {name: description} of every hyperparameter build_model declared.
        layers: the layer classes of the model built with the layer counts at their maxima.
    """
    if not family.per:
        if family.name not in declared:
            return [f"{family.name}: not declared; expected {family.text()}{_hint(family, declared)}"]
        return _value_differences(family, [family.name], declared)
    count = MAX_LAYERS[family.per]
    indexed = _indexed(family, declared)
    word = LAYER_WORD[family.per]
    if not indexed:
        if family.name in declared:
            return [f"{family.label}: declared once (as '{family.name}'){_once_placement(family, layers)}; "
                    f"expected one per {word} ({_range_text(family, range(count))} when {family.per}={count})"]
        return [f"{family.label}: not declared; expected one {family.text()} per {word} "
                f"({_range_text(family, range(count))}){_hint(family, declared)}"]
    base = 1 if 0 not in indexed and 1 in indexed else 0
    expected = range(base, base + count)
    problems = []
    missing = [f"{family.name}_{i}" for i in expected if i not in indexed]
    if missing:
        problems.append(f"{family.label}: declared for {count - len(missing)} of {count} {word}s when "
                        f"{family.per}={count}; missing {', '.join(missing)}")
    present = [f"{family.name}_{i}" for i in expected if i in indexed]
    return problems + _value_differences(family, present, declared)


def _value_differences(family: Family, names: list[str], declared: dict[str, dict]) -> list[str]:
    wrong: dict[str, list[str]] = {}
    for name in names:
        if not _matches(family, declared[name]):
            wrong.setdefault(describe(declared[name]), []).append(name)
    return [f"{family.label}: {_names_text(group)} {'is' if len(group) == 1 else 'are'} {text}; "
            f"expected {family.text()}" for text, group in wrong.items()]


def _matches(family: Family, declared: dict) -> bool:
    if declared.get("type") != family.kind:
        return False
    if family.kind == "Choice":
        values = declared.get("values") or []
        return len(values) == len(family.choices) and all(family.accepts(v) for v in values)
    if not (_close(declared.get("min"), family.low) and _close(declared.get("max"), family.high)):
        return False
    return family.step is None or _close(declared.get("step"), family.step)


def _indexed(family: Family, declared: dict) -> dict[int, str]:
    pattern = re.compile(rf"{re.escape(family.name)}_(\d+)")
    return {int(m.group(1)): name for name in declared if (m := pattern.fullmatch(name))}


def _once_placement(family: Family, layers: list[str]) -> str:
    layer_class = LAYER_CLASS[family.name]
    positions = [i for i, layer in enumerate(layers) if layer == layer_class]
    if family.name == "dropout":
        dense = [i for i, layer in enumerate(layers) if layer == "Dense"]
        if len(positions) == 1 and len(dense) >= 2 and dense[-2] < positions[0] < dense[-1]:
            return " after the dense loop"
    used = len(positions) - (1 if layer_class == "Dense" else 0)  # the output layer is not a hidden one
    return f", shared by all {used} {layer_class} layers" if used > 1 else ""


def _hint(family: Family, declared: dict) -> str:
    others = [name for name in declared if family_of(name) is None
              and any(stem in name.lower() for stem in STEMS[family.name])]
    return f" (declared instead: {', '.join(repr(n) for n in others[:4])}?)" if others else ""


def family_of(name: str) -> Family | None:
    """The family a declared name belongs to ("filters_3" -> filters), or None."""
    if name in FAMILIES:
        return FAMILIES[name]
    stem, _, index = name.rpartition("_")
    family = FAMILIES.get(stem)
    return family if family is not None and family.per and index.isdigit() else None


# -- reported results ------------------------------------------------------------------------

def reported_differences(best: dict) -> list[str]:
    """Where BEST_HYPERPARAMETERS lies outside the space.

    Every value under a spec name must be a point of its family, and the three single
    hyperparameters must be there; tuner/* keys and other names (a student's extra
    hyperparameters, or a family declared under another name, which the space checks grade)
    are ignored, and so are missing per-layer values.
    """
    values = {str(k): v for k, v in best.items() if not str(k).startswith("tuner/")}
    problems = []
    for name, value in values.items():
        family = family_of(name)
        if family is not None and not family.accepts(value):
            problems.append(f"{name}={value!r:.40} (expected {family.text()})")
    return problems + [f"{family.name} is missing" for family in SPACE if not family.per and family.name not in values]


# -- text ------------------------------------------------------------------------------------

def _names_text(names: list[str]) -> str:
    if len(names) > 2:
        return f"{names[0]}..{names[-1]}"
    return " and ".join(names)


def _range_text(family: Family, indices: range) -> str:
    return f"{family.name}_{indices[0]}..{family.name}_{indices[-1]}"


def _number(value) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return repr(value) if isinstance(value, str) else str(value)
    if float(value).is_integer() and abs(value) < 1e6:
        return str(int(value)) if isinstance(value, int) else f"{value:.1f}"
    return f"{value:g}"


def _close(actual, expected) -> bool:
    return isinstance(actual, (int, float)) and not isinstance(actual, bool) and math.isclose(
        actual, expected, rel_tol=1e-9, abs_tol=1e-12)
