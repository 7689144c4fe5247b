"""Comparing Grad-CAM heatmaps (NumPy only: no TensorFlow here): resampling, similarity, the known mistakes
and the diagnosis of which one a student's maps are closest to.

Maps of any 2-D size are compared on the image grid (28 x 28 for MNIST): a student may return the
layer's map (10 x 10 on the grader's CNN) or upsample it, and the same map must score the same. What
each check observes is computed from these (observations.py); its judge decides (judges.py).
"""

from __future__ import annotations

from dataclasses import dataclass

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
    "ignored_layer_name": "`layer_name` is ignored (the map of another layer is returned whatever layer is asked "
                          "for): take the feature maps of `model.get_layer(layer_name)`",
    "training_mode": "the model is called in training mode (training=True): BatchNormalization then normalises "
                     "with the image's own statistics and Dropout drops features, so the map is not the trained "
                     "model's (here it is noise); call it in inference mode (training=False, the default)",
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


def upsampled(shape: tuple[int, ...], *, image: tuple[int, int], layer: tuple[int, int]) -> bool:
    """Whether a (squeezed) map of `shape` was upsampled to the image from the layer's size."""
    return tuple(shape) == tuple(image) != tuple(layer)


@dataclass(frozen=True)
class ValueLimits:
    """The values a student's map may hold, by whether it was upsampled to the image.

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

    def lowest(self, upsampled: bool) -> float:
        """The smallest value allowed in a map."""
        return -(self.upsampled_negative_tol if upsampled else self.negative_tol)

    def peak(self, upsampled: bool) -> tuple[float, float]:
        """The range allowed for a map's maximum."""
        return tuple(self.upsampled_peak_range) if upsampled else (1.0 - self.max_tol, 1.0 + self.max_tol)


# -- diagnosis --------------------------------------------------------------------------

@dataclass
class Diagnosis:
    """Which known mistake the pattern of a student's maps is closest to.

    `pattern_scores` holds the median r of the student's maps with each variant's maps;
    `closest` is the nearest one ("correct" when it is the reference's own); `layer` names the
    layer of a "wrong_layer" diagnosis. Value mistakes (negative values, a maximum that is not
    1) are found from the values, by the checks themselves. `training_calls`: calls of the
    student's grad_cam that ran the model in training mode (seen by the probe): that cause is
    named before any pattern.
    """

    closest: str
    pattern_scores: dict[str, float]
    layer: str | None = None
    training_calls: int = 0

    def to_plain(self) -> dict:
        return {"closest": self.closest, "scores": dict(self.pattern_scores), "layer": self.layer,
                "training_calls": self.training_calls}

    @classmethod
    def from_plain(cls, value: dict) -> "Diagnosis":
        return cls(value["closest"], dict(value["scores"]), value.get("layer"), int(value.get("training_calls", 0)))

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
        """The closest known mistake in words (training mode first), or NO_MATCH."""
        if self.training_calls:
            return MISTAKES["training_mode"]
        return NO_MATCH if self.closest in (CORRECT, "constant") else self.label(self.closest)

    @property
    def named(self) -> str | None:
        """The key of the mistake `pattern` names (None for NO_MATCH)."""
        if self.training_calls:
            return "training_mode"
        return None if self.closest in (CORRECT, "constant") else self.closest


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
