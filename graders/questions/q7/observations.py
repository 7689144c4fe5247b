"""What each q7 heatmap check observes: the statistics its judge applies thresholds to, per case.

Computed in the grading process from the student's maps and the trusted side's (`cases.Setup`); the
maps themselves are not stored (a results JSON stays small), only the numbers a judge needs:
correlations, overlaps, minima, maxima, pattern scores. Every number that does not depend on a
threshold is computed here, so a judge under another rubric decides as a fresh grading would.

Each check looks at the cases where its own mistake is identifiable, whatever else is wrong: the
pattern checks (`logit`, `correlation`, `top_overlap`) at the predicted-class maps (asked with
class_index=None, where class handling cannot matter), blind to the ReLU and the scale;
`class_sensitivity` at the maps of other classes, against the student's own predicted-class map;
the ReLU's pattern at digits chosen for their negative evidence; `layer_name` at the digits asked
at a second layer, against the student's own map of the same digit at the last convolution.
"""

from __future__ import annotations

import numpy as np

from graders.questions.q7 import heatmaps
from graders.questions.q7.cases import Setup
from graders.questions.q7.heatmaps import SCORE_FAMILIES, Diagnosis, pearson, resample


class StudentMaps:
    """A submission's maps of the graded cases (2-D, singleton axes dropped, non-finite values as 0).

    Args:
        maps: one per graded case; setup: the trusted side's cases and maps; grid: the image grid.
        descriptions: how each case is named in a message; training_calls: calls the probe saw run
            the model in training mode.
    """

    def __init__(self, maps: list[np.ndarray], setup: Setup, grid: tuple[int, int], descriptions: list[str], *,
                 training_calls: int = 0) -> None:
        self.maps, self.setup, self.grid, self.descriptions = maps, setup, tuple(grid), descriptions
        cases = setup.cases
        self.constant = [i for i, m in enumerate(maps) if heatmaps.is_constant(m)]
        self.degenerate = len(self.constant) == len(maps)
        self.predicted = [i for i, case in enumerate(cases) if case.predicted]
        self.explicit = [i for i, case in enumerate(cases) if not case.predicted]
        self.predicted_of = {case.digit: i for i, case in enumerate(cases) if case.predicted}
        shown = [i for i in self.predicted if i not in self.constant]
        variants = setup.variants
        self.diagnosis = (heatmaps.diagnose([maps[i] for i in shown], {k: v[shown] for k, v in variants.items()},
                                            grid=self.grid) if shown else Diagnosis("constant", {"constant": 1.0}))
        self.diagnosis.training_calls = training_calls
        self.similarities = {i: self._similarity(i) for i in self.predicted}

    def _similarity(self, i: int) -> dict:
        scores = {name: heatmaps.family_similarity(self.maps[i], self.setup.variants[relu][i],
                                                   self.setup.variants[no_relu][i], grid=self.grid, fraction=0.2)
                  for name, (relu, no_relu) in SCORE_FAMILIES.items()}
        return {"r_logit": scores["logit"]["r"], "r_softmax": scores["softmax"]["r"],
                "r": max(s["r"] for s in scores.values())}

    def _common(self) -> dict:
        return {"n_maps": len(self.maps), "constant": self.constant, "diagnosis": self.diagnosis.to_plain()}

    def _upsampled(self) -> list[bool]:
        layer = self.setup.layer_shapes[self.setup.layer]
        return [heatmaps.upsampled(m.shape, image=self.grid, layer=layer) for m in self.maps]

    # -- per check ---------------------------------------------------------------------------

    def nonnegative(self) -> dict:
        """Each map's minimum; at the negative-evidence digits, r with the reference's map with and without ReLU."""
        rows = [i for i, case in enumerate(self.setup.cases)
                if case.group == "negative evidence" and i not in self.constant]
        return {**self._common(), "cases": self.descriptions, "minima": [float(m.min()) for m in self.maps],
                "upsampled": self._upsampled(),
                "negative_evidence": [{"case": i, "r_with_relu": self._best_r(i, 0), "r_without_relu": self._best_r(i, 1)}
                                      for i in rows]}

    def _best_r(self, i: int, which: int) -> float:
        student = resample(self.maps[i], self.grid)
        return max(pearson(student, resample(self.setup.variants[keys[which]][i], self.grid))
                   for keys in SCORE_FAMILIES.values())

    def normalised(self) -> dict:
        """Each map's maximum."""
        return {**self._common(), "cases": self.descriptions, "maxima": [float(m.max()) for m in self.maps],
                "upsampled": self._upsampled()}

    def logit(self) -> dict:
        """Per predicted-class map that is not constant: r with the logit's and with the softmax's reference maps."""
        return {**self._common(), "rows": [{"r_logit": self.similarities[i]["r_logit"],
                                            "r_softmax": self.similarities[i]["r_softmax"]}
                                           for i in self.predicted if i not in self.constant]}

    def correlation(self) -> dict:
        """Per predicted-class map: r with the reference's (the better score family, blind to the ReLU)."""
        return {**self._common(), "rows": [{"case": self.descriptions[i], "r": self.similarities[i]["r"]}
                                           for i in self.predicted]}

    def top_overlap(self, fraction: float) -> dict:
        """Per predicted-class map: the share of the reference's top `fraction` pixels among the student's."""
        overlaps = [max(heatmaps.family_similarity(self.maps[i], self.setup.variants[relu][i],
                                                   self.setup.variants[no_relu][i], grid=self.grid,
                                                   fraction=fraction)["top_overlap"]
                        for relu, no_relu in SCORE_FAMILIES.values()) for i in self.predicted]
        return {**self._common(), "fraction": fraction, "overlaps": overlaps}

    def class_sensitivity(self) -> dict:
        """Per map of a class asked by number: r with the same digit's predicted-class map, the student's and the
        method's (the closest variant's: a class-blind method is not this check's business)."""
        pairs = [(i, self.predicted_of[self.setup.cases[i].digit]) for i in self.explicit]
        pairs = [(i, p) for i, p in pairs if i not in self.constant and p not in self.constant]
        method = self.setup.variants.get(self.diagnosis.variant, self.setup.variants[heatmaps.CORRECT])
        rows = [{"case": self.descriptions[i], "class": self.setup.cases[i].class_index,
                 "r_student": self._r(self.maps[i], self.maps[p]), "r_expected": self._r(method[i], method[p])}
                for i, p in pairs]
        return {**self._common(), "pairs": rows}

    def layer_name(self, layer_maps: list[np.ndarray], layer_descriptions: list[str]) -> dict:
        """Per digit asked at the other layer: its map's shape, and r with the student's own map of the same digit
        and class at the last convolution (the same map means `layer_name` was not used)."""
        setup = self.setup
        rows = []
        for digit, heatmap, description in zip(setup.selection.layer_digits, layer_maps, layer_descriptions):
            own = self.maps[self.predicted_of[digit]]
            same_shape = heatmap.shape == own.shape
            rows.append({"case": description, "shape": list(heatmap.shape),
                         "r_with_last_conv_map": self._r(heatmap, own),
                         "equal_to_last_conv_map": bool(same_shape and np.allclose(heatmap, own, atol=1e-6)),
                         "constant": bool(heatmaps.is_constant(heatmap))})
        return {"layer_name": setup.other_layer, "last_conv": setup.layer, "rows": rows,
                "layer_shapes": {name: list(shape) for name, shape in setup.layer_shapes.items()},
                "image": list(self.grid)}

    def _r(self, a: np.ndarray, b: np.ndarray) -> float:
        return pearson(resample(a, self.grid), resample(b, self.grid))


def randomisation(trained: list[np.ndarray], randomised: list[np.ndarray], descriptions: list[str], *,
                  grid: tuple[int, int]) -> dict:
    """Per digit: r between the positive parts of the student's maps on the trained and the randomised model."""
    values = [pearson(resample(np.maximum(a, 0.0), grid), resample(np.maximum(b, 0.0), grid))
              for a, b in zip(trained, randomised)]
    return {"cases": descriptions, "r": values, "constant": [bool(heatmaps.is_constant(a)) for a in trained]}


def shapes(returned_shapes: list[tuple[int, ...]], setup: Setup, descriptions: list[str], *,
           grid: tuple[int, int]) -> dict:
    """Every map's shape as returned, and the sizes a map of the last convolution may have."""
    return {"shapes": [list(shape) for shape in returned_shapes], "cases": descriptions, "layer": setup.layer,
            "layer_shapes": {name: list(shape) for name, shape in setup.layer_shapes.items()}, "image": list(grid)}
