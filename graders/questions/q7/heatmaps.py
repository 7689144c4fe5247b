"""Comparing Grad-CAM heatmaps and deciding q7's heatmap checks (NumPy only: no TensorFlow here).

Maps of any 2-D size are compared on the image grid (28 x 28 for MNIST): a student may return
the layer's map (6 x 6) or upsample it, and the same map must score the same. `HeatmapJudge`
holds every check's decision, so the grader and the seed sweep (tests/reference/test_sweep_q7.py)
decide the same way; the grader only words the messages.

Each check looks at the cases where its own mistake is identifiable, whatever else is wrong:
the pattern checks (`logit`, `correlation`, `top_overlap`) at the predicted-class maps (asked
with class_index=None, where class handling cannot matter) and blind to the ReLU and the scale;
`class_sensitivity` at the maps of other classes, against the student's own predicted-class map;
the ReLU's pattern at digits chosen for their negative evidence. A constant map carries no
pattern: it never passes a pattern check by accident, and an answer of constant maps fails them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# The known mistakes, by the key `variants` computes their maps under.
MISTAKES = {
    "no_relu": "no ReLU on the weighted sum of feature maps (negative values are kept)",
    "min_max_scaled": "min-max scaling instead of a ReLU (the negative evidence is kept, shifted into [0, 1])",
    "not_normalised": "the map is not normalised (divide it by its maximum so that it peaks at 1)",
    "softmax_gradient": "the gradient of the softmax output instead of the class logit (the score before the softmax)",
    "unpooled_gradients": "the gradients are not global-average-pooled per channel (each pixel is weighted by its own "
                          "gradient instead of by the channel's mean gradient)",
    "unweighted_activations": "the feature maps are averaged without gradient weights (the map ignores the class "
                              "and what the model learned)",
    "ignored_class_index": "`class_index` is ignored (every map explains the predicted class)",
    "class_zero_as_none": "class_index=0 is treated like None (`class_index or argmax`, or `if class_index:`): test "
                          "`class_index is None` instead",
    "wrong_layer": "the feature maps of the wrong layer (use the layer named by `layer_name`)",
    "constant": "every heatmap is constant (all the same value): it shows no evidence",
}
CORRECT = "correct"
NO_MATCH = "no known mistake matches your maps; compare them with the reference's in the report"
# The reference's maps of a case by the score differentiated, with and without the ReLU (variants keys).
SCORE_FAMILIES = {"logit": ("correct", "no_relu"), "softmax": ("softmax_gradient", "softmax_no_relu")}
# Variants the diagnosis chooses among: the pattern mistakes (value-only and combined ones are left out).
PATTERN_VARIANTS = ("correct", "no_relu", "softmax_gradient", "unpooled_gradients", "unweighted_activations")


def resample(heatmap: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Resize a 2-D map to `shape`: bilinear with half-pixel centres upwards, area-averaging downwards.

    This is what `tf.image.resize(..., "bilinear")` does when enlarging, so a map the
    student upsampled that way is compared like the layer-sized map it came from.
    """
    rows = _resize_matrix(heatmap.shape[0], shape[0])
    cols = _resize_matrix(heatmap.shape[1], shape[1])
    return rows @ np.asarray(heatmap, dtype=np.float64) @ cols.T


def _resize_matrix(n_in: int, n_out: int) -> np.ndarray:
    matrix = np.zeros((n_out, n_in))
    if n_out >= n_in:
        source = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
        low = np.floor(source).astype(int)
        high = np.minimum(low + 1, n_in - 1)
        matrix[np.arange(n_out), low] += 1 - (source - low)
        matrix[np.arange(n_out), high] += source - low
        return matrix
    edges = np.arange(n_out + 1) * n_in / n_out
    for out in range(n_out):
        for src in range(int(edges[out]), int(np.ceil(edges[out + 1]))):
            matrix[out, src] = min(src + 1, edges[out + 1]) - max(src, edges[out])
    return matrix / matrix.sum(axis=1, keepdims=True)


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson r of two equally shaped maps; 0 when either is constant (it shows nothing)."""
    x, y = np.ravel(a).astype(np.float64), np.ravel(b).astype(np.float64)
    if is_constant(x) or is_constant(y):
        return 0.0
    x, y = x - x.mean(), y - y.mean()
    return float(np.dot(x, y) / np.sqrt(np.dot(x, x) * np.dot(y, y)))


def is_constant(values: np.ndarray) -> bool:
    """Whether a map holds one value only (all zeros included), relative to its own scale.

    An unnormalised map may be tiny; resampling a constant map leaves rounding noise that
    must not count as a pattern.
    """
    values = np.asarray(values, dtype=np.float64)
    return not np.ptp(values) > 1e-9 * np.max(np.abs(values))


def top_overlap(a: np.ndarray, b: np.ndarray, fraction: float) -> float:
    """Share of the top `fraction` of pixels of `b` that are also in the top `fraction` of `a`.

    Ties are broken by position (a stable sort), the same way in both maps.
    """
    k = max(1, int(round(fraction * np.size(b))))
    top_a = np.argsort(-np.ravel(a), kind="stable")[:k]
    top_b = np.argsort(-np.ravel(b), kind="stable")[:k]
    return len(np.intersect1d(top_a, top_b)) / k


def similarity(student: np.ndarray, reference: np.ndarray, *, grid: tuple[int, int], fraction: float) -> dict:
    """{"r", "top_overlap"} of a student map against a reference map, both on `grid`."""
    a, b = resample(student, grid), resample(reference, grid)
    return {"r": pearson(a, b), "top_overlap": top_overlap(a, b, fraction)}


def family_similarity(student: np.ndarray, with_relu: np.ndarray, without_relu: np.ndarray, *,
                      grid: tuple[int, int], fraction: float) -> dict:
    """{"r", "top_overlap"} of a student map against one score's reference maps, blind to the ReLU step.

    The better of: the map clipped at 0 against the reference's map (a map without its ReLU
    loses nothing here), and the map as returned against the reference's map without ReLU
    (nor does a min-max scaled one): the ReLU is `nonnegative`'s business.
    """
    clipped = similarity(np.maximum(student, 0.0), with_relu, grid=grid, fraction=fraction)
    kept = similarity(student, without_relu, grid=grid, fraction=fraction)
    return {key: max(clipped[key], kept[key]) for key in ("r", "top_overlap")}


def median_r(maps: list[np.ndarray], references: list[np.ndarray], *, grid: tuple[int, int]) -> float:
    """Median Pearson r between paired maps, on `grid`."""
    return float(np.median([pearson(resample(m, grid), resample(r, grid)) for m, r in zip(maps, references)]))


def squeezed_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    """A returned map's shape without singleton axes: (1, 6, 6) and (6, 6, 1) are a (6, 6) map."""
    return tuple(int(size) for size in shape if size != 1)


@dataclass(frozen=True)
class ValueLimits:
    """The values a student's map may hold, by its size.

    At the layer's size a map is what Grad-CAM computed: no negative value and a maximum of 1,
    up to float tolerance. A map upsampled to the image may under- and overshoot by
    interpolation (bicubic, lanczos) or lose its peak between pixels (bilinear): it gets the
    wider `upsampled_*` limits. A constant map (no positive evidence: the reference returns
    zeros there) has no peak to check.
    """

    negative_tol: float
    max_tol: float
    upsampled_negative_tol: float
    upsampled_peak_range: tuple[float, float]
    image_shape: tuple[int, int]
    layer_shape: tuple[int, int]

    def lowest(self, shape: tuple[int, ...]) -> float:
        """The smallest value allowed in a map of `shape`."""
        return -(self.upsampled_negative_tol if self._upsampled(shape) else self.negative_tol)

    def peak(self, shape: tuple[int, ...]) -> tuple[float, float]:
        """The range allowed for the maximum of a map of `shape`."""
        if self._upsampled(shape):
            return tuple(self.upsampled_peak_range)
        return 1.0 - self.max_tol, 1.0 + self.max_tol

    def negative(self, maps: list[np.ndarray]) -> list[int]:
        """Indices of the maps with a value below their limit (a missing ReLU)."""
        return [i for i, m in enumerate(maps) if float(np.min(m)) < self.lowest(m.shape)]

    def unnormalised(self, maps: list[np.ndarray]) -> list[int]:
        """Indices of the non-constant maps whose maximum is out of range (not divided by the maximum)."""
        return [i for i, m in enumerate(maps)
                if not is_constant(m) and not self.peak(m.shape)[0] <= float(np.max(m)) <= self.peak(m.shape)[1]]

    def _upsampled(self, shape: tuple[int, ...]) -> bool:
        return tuple(shape) == tuple(self.image_shape) != tuple(self.layer_shape)


# -- diagnosis --------------------------------------------------------------------------

@dataclass
class Diagnosis:
    """Which known mistake the pattern of a student's maps is closest to.

    `pattern_scores` holds the median r of the student's maps with each variant's maps;
    `closest` is the nearest one ("correct" when it is the reference's own); `layer` names the
    layer of a "wrong_layer" diagnosis. Value mistakes (negative values, a maximum that is not
    1) are found from the values, by the checks themselves.
    """

    closest: str
    pattern_scores: dict[str, float]
    layer: str | None = None

    @property
    def variant(self) -> str:
        """The key of the closest variant's maps ("layer:<name>" for a wrong layer)."""
        return f"layer:{self.layer}" if self.closest == "wrong_layer" else self.closest

    def label(self, key: str) -> str:
        """The mistake `key` in words, with the evidence when it is the closest pattern."""
        text = MISTAKES[key]
        if key == "wrong_layer" and self.layer:
            text = text.replace("the wrong layer", f"layer `{self.layer}`")
        if key == self.closest:
            text += f" (your maps match that mistake's maps with median r = {self.pattern_scores[key]:.2f})"
        return text

    def pattern(self) -> str:
        """The closest known mistake in words, or NO_MATCH."""
        return NO_MATCH if self.closest == CORRECT else self.label(self.closest)


def diagnose(maps: list[np.ndarray], variants: dict[str, np.ndarray], *, grid: tuple[int, int]) -> Diagnosis:
    """Find the known pattern mistake whose maps the student's maps are closest to.

    Args:
        maps: the student's maps (2-D, any size), one per case.
        variants: maps of the same cases by the reference ("correct") and by each known mistake
            (PATTERN_VARIANTS, and "layer:<name>" for another layer's correct map); other keys
            are ignored.
        grid: the image grid the maps are compared on.

    Returns:
        The variant with the highest median Pearson r (blind to scale and offset); a tie, to
        3 decimals, goes to "correct".
    """
    scores = {key: median_r(maps, list(variant), grid=grid)
              for key, variant in variants.items() if key in PATTERN_VARIANTS or key.startswith("layer:")}
    closest = max(scores, key=lambda key: (round(scores[key], 3), key == CORRECT))
    if not closest.startswith("layer:"):
        return Diagnosis(closest, scores)
    scores["wrong_layer"] = scores[closest]
    return Diagnosis("wrong_layer", scores, layer=closest.partition(":")[2])


# -- the checks' decisions ------------------------------------------------------------------

@dataclass(frozen=True)
class Verdict:
    """One check's decision, with the numbers its message and the report show."""

    passed: bool
    evidence: dict = field(default_factory=dict)


def shape_verdict(shapes: list[tuple[int, ...]], allowed: list[tuple[int, int]]) -> Verdict:
    """Every map is 2-D of an allowed size once its singleton axes are dropped (a batch axis is fine)."""
    wrong = [i for i, shape in enumerate(shapes) if squeezed_shape(shape) not in [tuple(a) for a in allowed]]
    singleton = sorted({str(tuple(shape)) for shape in shapes if len(shape) != len(squeezed_shape(shape))})
    return Verdict(not wrong, {"wrong": wrong, "with_singleton_axes": singleton})


def randomisation_verdict(trained: list[np.ndarray], randomised: list[np.ndarray], *, maximum: float,
                          grid: tuple[int, int]) -> Verdict:
    """The maps change when the model's classifier is re-initialised: mean r of the positive parts < `maximum`.

    A constant map on the randomised model is fine (it may have no positive evidence: r = 0);
    a constant one on the trained model shows nothing, so it is left out, and all of them fail.
    """
    values = [_positive_r(a, b, grid) for a, b in zip(trained, randomised)]
    informative = [v for v, a in zip(values, trained) if not is_constant(a)]
    mean = float(np.mean(informative)) if informative else float("nan")
    return Verdict(bool(informative) and mean < maximum,
                   {"r": values, "mean_r": mean, "constant": len(trained) - len(informative)})


def _positive_r(a: np.ndarray, b: np.ndarray, grid: tuple[int, int]) -> float:
    return pearson(resample(np.maximum(a, 0.0), grid), resample(np.maximum(b, 0.0), grid))


class HeatmapJudge:
    """The decisions of q7's heatmap checks on one submission's maps of the graded cases.

    Args:
        maps: the student's 2-D maps (singleton axes dropped, non-finite values as 0), one per case.
        cases: the graded cases (variants.Case: digit, class_index, role, group, predicted).
        variants: {variant key: (n_cases, h, w) maps} by the reference and each known mistake.
        settings: the [q7] thresholds (graders/rubric.toml); limits: the values a map may hold.
        grid: the image grid maps are compared on.
    """

    def __init__(self, maps, cases, variants, settings, limits: ValueLimits, grid: tuple[int, int]):
        self.maps, self.cases, self.variants = maps, cases, variants
        self.settings, self.limits, self.grid = settings, limits, grid
        self.constant = [i for i, m in enumerate(maps) if is_constant(m)]
        self.degenerate = len(self.constant) == len(maps)
        self.predicted = [i for i, case in enumerate(cases) if case.predicted]
        self.explicit = [i for i, case in enumerate(cases) if not case.predicted]
        self._predicted_of = {case.digit: i for i, case in enumerate(cases) if case.predicted}
        shown = [i for i in self.predicted if i not in self.constant]
        self.diagnosis = (diagnose([maps[i] for i in shown], {k: v[shown] for k, v in variants.items()}, grid=grid)
                          if shown else Diagnosis("constant", {"constant": 1.0}))
        self.similarities = {i: self._similarity(i) for i in self.predicted}

    def _similarity(self, i: int) -> dict:
        scores = {name: family_similarity(self.maps[i], self.variants[relu][i], self.variants[no_relu][i],
                                          grid=self.grid, fraction=self.settings.top_fraction)
                  for name, (relu, no_relu) in SCORE_FAMILIES.items()}
        return {"r_logit": scores["logit"]["r"], "r_softmax": scores["softmax"]["r"],
                "r": max(s["r"] for s in scores.values()),
                "top_overlap": max(s["top_overlap"] for s in scores.values())}

    def _constant(self) -> Verdict:
        """Every map the check looks at is constant: it fails, with the constant-map message."""
        return Verdict(False, {"constant_only": True, "constant": len(self.constant)})

    def nonnegative(self) -> Verdict:
        """No negative value (by the limits), and no negative evidence kept in a shifted map.

        The second part looks at the digits chosen for their negative evidence: there the
        reference's map with and without its ReLU differ, and a min-max scaled map matches the
        one without (mean r >= negative_evidence_min_r) better than the one with (by more than
        negative_evidence_margin).
        """
        if self.degenerate:
            return self._constant()
        negative = self.limits.negative(self.maps)
        rows = [i for i, case in enumerate(self.cases) if case.group == "negative evidence" and i not in self.constant]
        with_relu = [self._best_r(i, 0) for i in rows]
        without = [self._best_r(i, 1) for i in rows]
        margin = float(np.mean(np.subtract(without, with_relu))) if rows else float("-inf")
        settings = self.settings
        kept = margin > settings.negative_evidence_margin and np.mean(without) >= settings.negative_evidence_min_r
        return Verdict(not negative and not kept, {
            "negative": negative, "minima": [float(m.min()) for m in self.maps], "kept_negative_evidence": bool(kept),
            "r_with_relu": float(np.mean(with_relu)) if rows else None,
            "r_without_relu": float(np.mean(without)) if rows else None})

    def _best_r(self, i: int, which: int) -> float:
        student = resample(self.maps[i], self.grid)
        return max(pearson(student, resample(self.variants[keys[which]][i], self.grid))
                   for keys in SCORE_FAMILIES.values())

    def normalised(self) -> Verdict:
        """Every map that is not constant peaks at 1 (within the limits of its size)."""
        if self.degenerate:
            return self._constant()
        bad = self.limits.unnormalised(self.maps)
        return Verdict(not bad, {"unnormalised": bad, "maxima": [float(m.max()) for m in self.maps]})

    def logit(self) -> Verdict:
        """The predicted-class maps match the logit's maps at least as well as the softmax's."""
        rows = [self.similarities[i] for i in self.predicted if i not in self.constant]
        if not rows:
            return self._constant()
        r_logit, r_softmax = (float(np.mean([row[key] for row in rows])) for key in ("r_logit", "r_softmax"))
        softmax = r_softmax > r_logit and r_softmax >= self.settings.min_map_correlation
        return Verdict(not softmax, {"mean_r_logit_map": r_logit, "mean_r_softmax_map": r_softmax})

    def correlation(self) -> Verdict:
        """Every predicted-class map has r >= min_map_correlation with the reference's (a constant one: 0)."""
        if self.degenerate:
            return self._constant()
        bad = [i for i in self.predicted if self.similarities[i]["r"] < self.settings.min_map_correlation]
        return Verdict(not bad, {"bad": bad})

    def top_overlap(self) -> Verdict:
        """The predicted-class maps' top pixels overlap the reference's by min_top_overlap on average."""
        if self.degenerate:
            return self._constant()
        mean = float(np.mean([self.similarities[i]["top_overlap"] for i in self.predicted]))
        return Verdict(mean >= self.settings.min_top_overlap, {"mean_overlap": mean})

    def class_sensitivity(self) -> Verdict:
        """Each map of an asked class differs from the same digit's predicted-class map as the method's would.

        r(student's map for class c, student's map for the predicted class) may exceed the same r
        of the closest variant's maps by at most `class_margin`: a class-blind method (another
        layer, unweighted activations) is not this check's business, ignoring class_index is.
        """
        pairs = [(i, self._predicted_of[self.cases[i].digit]) for i in self.explicit]
        pairs = [(i, p) for i, p in pairs if i not in self.constant and p not in self.constant]
        if not pairs:
            return self._constant()
        method = self.variants.get(self.diagnosis.variant, self.variants[CORRECT])
        rows = []
        for i, p in pairs:
            student = pearson(resample(self.maps[i], self.grid), resample(self.maps[p], self.grid))
            expected = pearson(resample(method[i], self.grid), resample(method[p], self.grid))
            rows.append({"case": i, "class": self.cases[i].class_index, "role": self.cases[i].role,
                         "r_student": student, "r_expected": expected})
        bad = [row for row in rows if row["r_student"] - row["r_expected"] > self.settings.class_margin]
        return Verdict(not bad, {"pairs": rows, "bad": bad, "mistake": _class_mistake(rows, bad)})


def _class_mistake(rows: list[dict], bad: list[dict]) -> str:
    """"class_zero_as_none" when only the class-0 maps explain the predicted class, else "ignored_class_index"."""
    if not bad:
        return ""
    only_zero = all(row["class"] == 0 for row in bad) and any(row["class"] != 0 for row in rows)
    return "class_zero_as_none" if only_zero else "ignored_class_index"
