"""q1's search space as DESIGN.md specifies it, and how a student's declared space differs from it.

A family is one hyperparameter (`conv_layers`) or one per layer (`filters_{i}`: filters_0 ...
filters_4 when conv_layers is 5; indices from 1 are accepted too). A declaration is graded by
the set of values it can take, not by the KerasTuner call that declares it: `Choice([2, 3, 4, 5])`
is `Int(2, 5)`, `Int(3, 5, step=2)` is `Choice([3, 5])`. Where DESIGN.md gives an Int by its
bounds only (filters, units), any set of integers from the lower to the upper bound is right
(a step that reaches both); the other families must take exactly the specified values.
Whether each hyperparameter takes effect in the built model is graders/questions/q1/effects.py.
Every function returns differences as sentences a student can act on.
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
MAX_LISTED = 10_000  # a declaration with more values is summarised by its bounds
_REL = 1e-9


@dataclass(frozen=True)
class Family:
    """One family of the specified space."""

    name: str
    kind: str  # "Int", "Float" or "Choice"
    low: float | None = None
    high: float | None = None
    step: float | None = None  # None: bounds only, any step that reaches both bounds
    choices: tuple = ()
    per: str | None = None  # the layer count it repeats with: one `{name}_{i}` per layer

    @property
    def label(self) -> str:
        return f"{self.name}_{{i}}" if self.per else self.name

    @property
    def bounds_only(self) -> bool:
        return self.kind == "Int" and self.step is None

    def text(self) -> str:
        if self.kind == "Choice":
            return "Choice {" + ", ".join(number(c) for c in self.choices) + "}"
        if self.bounds_only:
            return f"Int {number(self.low)}..{number(self.high)} (any step that reaches {number(self.high)})"
        step = f" step {number(self.step)}" if self.step != 1 else ""
        return f"{self.kind} {number(self.low)}..{number(self.high)}{step}"

    def values(self) -> tuple | None:
        """The values the spec gives exactly (sorted), or None for a bounds-only Int."""
        if self.kind == "Choice":
            return tuple(sorted(self.choices))
        if self.bounds_only:
            return None
        return _arithmetic(self.low, self.high, self.step)

    def accepts(self, value) -> bool:
        """Whether `value` is a point of this family's range."""
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not _finite(value):
            return False
        exact = self.values()
        if exact is not None:
            return any(_close(value, v) for v in exact)
        return float(value).is_integer() and self.low <= value <= self.high


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


def index_base(name: str, declared: dict) -> int:
    """1 when the student numbers family `name`'s layers from 1 (units_1, units_2, ...), else 0."""
    indexed = _indexed(FAMILIES[name], declared)
    return 1 if indexed and 0 not in indexed and 1 in indexed else 0


# -- the declared space ----------------------------------------------------------------------

def describe(declared: dict) -> str:
    """A declared hyperparameter as text: "Int 32..128 step 32", "Choice {3}", "Float 0..0.5"."""
    kind = declared.get("type")
    if kind == "Choice":
        return "Choice {" + ", ".join(number(v) for v in declared.get("values") or []) + "}"
    if kind == "Fixed":
        return f"Fixed {number(declared.get('default'))}"
    if kind in ("Int", "Float"):
        step = declared.get("step")
        text = f"{kind} {number(declared.get('min'))}..{number(declared.get('max'))}"
        text += " (no step)" if kind == "Float" and step is None else "" if step in (None, 1) else f" step {number(step)}"
        sampling = declared.get("sampling")
        return text + (f" ({sampling} sampling)" if sampling not in (None, "linear") else "")
    return str(kind)


@dataclass(frozen=True)
class ValueSet:
    """What a declared hyperparameter can take: a finite list, or every number of a range."""

    listed: tuple | None  # sorted values, when finite, numeric and at most MAX_LISTED
    low: float | None = None
    high: float | None = None
    integers: bool = False  # every value is a whole number
    continuous: bool = False  # a Float without a step: any value in [low, high]
    numeric: bool = True

    def text(self) -> str:
        if self.continuous:
            return f"any value from {number(self.low)} to {number(self.high)}"
        if self.listed is not None and len(self.listed) <= 8:
            return "{" + ", ".join(number(v) for v in self.listed) + "}"
        if self.listed is not None:
            first, second, last = self.listed[0], self.listed[1], self.listed[-1]
            return f"{len(self.listed)} values {{{number(first)}, {number(second)}, ..., {number(last)}}}"
        return f"{number(self.low)}..{number(self.high)}"


def value_set(declared: dict) -> ValueSet:
    """The values a declaration (as the declared_space probe describes it) can take.

    KerasTuner itself counts a Float's values with a floor division, so that Float(0, 0.5,
    step=0.1) never samples 0.5 (0.5 // 0.1 is 4.0); a TA reads that declaration as the six
    values 0 ... 0.5, and so does this function.
    """
    kind = declared.get("type")
    if kind in ("Choice", "Fixed", "Boolean"):
        raw = declared.get("values") if kind == "Choice" else [declared.get("default")] if kind == "Fixed" \
            else [False, True]
        if not all(_is_number(v) for v in raw or [None]):
            return ValueSet(None, numeric=False)
        return _listed(raw)
    low, high, step = declared.get("min"), declared.get("max"), declared.get("step")
    if not (_is_number(low) and _is_number(high)) or (step is not None and not _is_number(step)):
        return ValueSet(None, numeric=False)
    sampling = declared.get("sampling") or "linear"
    if kind == "Float" and step is None:
        return ValueSet(None, low, high, continuous=high > low) if high > low else _listed([float(low)])
    if kind == "Int" and step is None:  # log sampling without a step reaches every integer
        step, sampling = 1, "linear"
    values = _arithmetic(low, high, step) if sampling == "linear" else _geometric(low, high, step, sampling)
    if values is None:  # too many to list: an Int's values are whole numbers from its bounds
        last = low + math.floor((high - low) / step + _REL) * step
        return ValueSet(None, low, last, integers=kind == "Int" or all(float(v).is_integer() for v in (low, step)))
    return _listed(tuple(int(v) for v in values) if kind == "Int" else values)


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
        listing = declared[name].get("type") in ("Choice", "Fixed")  # its description shows its values
        problem = set_difference(family, value_set(declared[name]), described_by_values=listing)
        if problem:
            wrong.setdefault(f"{describe(declared[name])}{problem}", []).append(name)
    return [f"{family.label}: {_names_text(group)} {'is' if len(group) == 1 else 'are'} {text}"
            for text, group in wrong.items()]


def set_difference(family: Family, values: ValueSet, *, described_by_values: bool = False) -> str:
    """"" when a declaration's values are the family's, else how they differ: a clause that follows
    the declaration's description (which lists the values itself when `described_by_values`)."""
    exact = family.values()
    if not values.numeric:
        return f", not numbers; expected {family.text()}"
    if values.continuous:
        wanted = f"the values {_set_text(exact)} ({family.text()})" if exact else family.text()
        return f": it takes {values.text()}; expected {wanted}"
    if exact is not None:
        if values.listed is not None and len(values.listed) == len(exact) and all(
                _close(a, b) for a, b in zip(values.listed, exact)):
            return ""
        taken = "" if described_by_values else f" (the values {values.text()})"
        return f"{taken}; expected {family.text()}" + (
            "" if family.kind == "Choice" else f", the values {_set_text(exact)}")
    # bounds only: whole numbers from the lower to the upper bound, at any step that reaches both
    if values.integers and _close(values.low, family.low) and _close(values.high, family.high):
        return ""
    reasons = []
    if not values.integers:
        reasons.append("not every value is a whole number")
    if not _close(values.low, family.low):
        reasons.append(f"its smallest value is {number(values.low)}")
    if not _close(values.high, family.high):
        reasons.append(f"its largest value is {number(values.high)}")
    return f" ({', '.join(reasons)}); expected {family.text()}"


def _listed(values) -> ValueSet:
    ordered = tuple(sorted(set(values)))
    if not ordered:
        return ValueSet((), numeric=True)
    return ValueSet(ordered, ordered[0], ordered[-1], integers=all(float(v).is_integer() for v in ordered))


def _arithmetic(low, high, step) -> tuple | None:
    if step is None or step <= 0:
        return (float(low),)
    count = math.floor((high - low) / step + _REL) + 1
    if count > MAX_LISTED:
        return None
    return tuple(round(low + i * step, 12) for i in range(count))


def _geometric(low, high, step, sampling) -> tuple | None:
    if step is None or step <= 1 or low <= 0:
        return None
    count = math.floor(math.log(high / low, step) + _REL) + 1
    if count > MAX_LISTED:
        return None
    powers = [low * step ** i for i in range(count)]
    if sampling == "reverse_log":
        powers = [high + low - p for p in powers]
    return tuple(round(p, 12) for p in powers)


def _indexed(family: Family, declared: dict) -> dict[int, str]:
    pattern = re.compile(rf"{re.escape(family.name)}_(\d+)")
    return {int(m.group(1)): name for name in declared if (m := pattern.fullmatch(name))}


def _once_placement(family: Family, layers: list[str]) -> str:
    """How a per-layer family declared once was used (", shared by all 5 Conv2D layers")."""
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
    return f"{names[0]}..{names[-1]}" if len(names) > 2 else " and ".join(names)


def _range_text(family: Family, indices: range) -> str:
    return f"{family.name}_{indices[0]}..{family.name}_{indices[-1]}"


def _set_text(values) -> str:
    return "{" + ", ".join(number(v) for v in values) + "}"


def number(value) -> str:
    """A value as a student reads it: 3, 0.5, 0.0001, 32.0 for a float."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return repr(value) if isinstance(value, str) else str(value)
    if float(value).is_integer() and abs(value) < 1e6:
        return str(int(value)) if isinstance(value, int) else f"{value:.1f}"
    return f"{value:g}"


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and _finite(value)


def _finite(value) -> bool:
    """math.isfinite for any int or float: an int too large for a float (10**400) is not a finite number."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _close(actual, expected) -> bool:
    return _is_number(actual) and _is_number(expected) and math.isclose(
        actual, expected, rel_tol=_REL, abs_tol=1e-12)
