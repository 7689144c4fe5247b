"""q7's graded Grad-CAM cases and what the trusted side computed for them, as plain data.

The trusted side (trusted.py) selects the cases from the seed's test digits and computes the
reference's and the known mistakes' maps of them on the grader's CNN; `Setup` is that value as the
grader reads it (the student kit reads the same value from its recording). Nothing here computes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ROLES = ("predicted", "runner-up", "class 0", "other class")  # the class explained
GROUPS = ("clear", "ambiguous", "negative evidence")  # why the digit was chosen


@dataclass(frozen=True)
class Case:
    """One graded heatmap: a test digit and the class explained."""

    digit: int  # index into the test split
    class_index: int
    role: str  # ROLES: the predicted class is asked for with class_index=None, the others by number
    group: str  # GROUPS

    @property
    def predicted(self) -> bool:
        return self.role == "predicted"

    @property
    def asked(self) -> int | None:
        """What the grader passes as class_index."""
        return None if self.predicted else self.class_index

    @property
    def by_default(self) -> bool:
        """Whether the call leaves class_index out (its default, None, must explain the predicted class): the
        ambiguous digits' predicted class; the other predicted-class calls pass None."""
        return self.predicted and self.group == "ambiguous"


@dataclass(frozen=True)
class Selection:
    """The graded cases, the digits asked at the other layer and those of the model-randomisation test."""

    cases: list[Case]
    layer_digits: list[int]  # asked at the other layer, for their predicted class (class_index=None)
    random_digits: list[int]
    random_classes: list[int]  # the trained model's predicted class of each random digit
    notes: list[str]  # where the selection had to widen its pool or fall back, in words

    def to_plain(self) -> dict:
        cases = np.array([[c.digit, c.class_index, ROLES.index(c.role), GROUPS.index(c.group)] for c in self.cases],
                         dtype=np.int64).reshape(-1, 4)
        return {"cases": cases, "layer_digits": [int(d) for d in self.layer_digits],
                "random_digits": [int(d) for d in self.random_digits],
                "random_classes": [int(c) for c in self.random_classes], "notes": list(self.notes)}

    @classmethod
    def from_plain(cls, value: dict) -> "Selection":
        cases = [Case(int(d), int(c), ROLES[int(r)], GROUPS[int(g)]) for d, c, r, g in np.asarray(value["cases"])]
        return cls(cases, [int(d) for d in value["layer_digits"]], [int(d) for d in value["random_digits"]],
                   [int(c) for c in value["random_classes"]], [str(n) for n in value["notes"]])


@dataclass(frozen=True)
class Setup:
    """The trusted side's value for one seed: the cases, and the maps the student's are compared with.

    `variants` holds (n_cases, h, w) maps of the graded cases by the reference ("correct", its own
    grad_cam) and by each known pattern mistake (heatmaps.PATTERN_VARIANTS keys, "layer:<name>" for
    the right method at another layer); `layer_maps` the reference's maps of the
    layer digits at `other_layer`.
    """

    selection: Selection
    layer: str  # the last convolution: the graded cases' layer
    other_layer: str  # the layer the layer digits are asked at
    layer_shapes: dict[str, tuple[int, int]]  # every convolution's output size
    variants: dict[str, np.ndarray]
    layer_maps: np.ndarray

    @property
    def cases(self) -> list[Case]:
        return self.selection.cases

    def to_plain(self) -> dict:
        return {"selection": self.selection.to_plain(), "layer": self.layer, "other_layer": self.other_layer,
                "layer_shapes": {name: list(shape) for name, shape in self.layer_shapes.items()},
                "variants": {key: np.asarray(maps, dtype=np.float32) for key, maps in self.variants.items()},
                "layer_maps": np.asarray(self.layer_maps, dtype=np.float32)}

    @classmethod
    def from_plain(cls, value: dict) -> "Setup":
        return cls(Selection.from_plain(value["selection"]), str(value["layer"]), str(value["other_layer"]),
                   {name: tuple(int(v) for v in shape) for name, shape in value["layer_shapes"].items()},
                   {key: np.asarray(maps) for key, maps in value["variants"].items()}, np.asarray(value["layer_maps"]))
