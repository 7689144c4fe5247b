"""Comparing Grad-CAM heatmaps: resampling, similarity, the closest known mistake, and pictures.

Maps of any 2-D size are compared on the image grid (28 x 28 for MNIST): a student may
return the layer's map (6 x 6) or upsample it, and the same map must score the same.
NumPy and matplotlib only, so this runs in the trusted process without TensorFlow.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import numpy as np

# The known mistakes, by the key `gradcam_variants` computes their maps under.
MISTAKES = {
    "no_relu": "no ReLU on the weighted sum of feature maps (negative values are kept)",
    "not_normalised": "the map is not normalised (divide it by its maximum so that it peaks at 1)",
    "softmax_gradient": "the gradient of the softmax output instead of the class logit (the score before the softmax)",
    "unpooled_gradients": "the gradients are not global-average-pooled per channel (each pixel is weighted by its own "
                          "gradient instead of by the channel's mean gradient)",
    "unweighted_activations": "the feature maps are averaged without gradient weights (the map ignores the class "
                              "and what the model learned)",
    "ignored_class_index": "`class_index` is ignored (every map explains the predicted class)",
    "wrong_layer": "the feature maps of the wrong layer (use the layer named by `layer_name`)",
}
CORRECT = "correct"
NO_MATCH = "no known mistake matches your maps; compare them with the reference's in the report"


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
    if _constant(x) or _constant(y):
        return 0.0
    x, y = x - x.mean(), y - y.mean()
    return float(np.dot(x, y) / np.sqrt(np.dot(x, x) * np.dot(y, y)))


def _constant(values: np.ndarray) -> bool:
    # Relative to the map's own scale: an unnormalised map may be tiny; resampling a constant
    # map leaves rounding noise that must not count as a pattern.
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


def median_r(maps: list[np.ndarray], references: list[np.ndarray], *, grid: tuple[int, int]) -> float:
    """Median Pearson r between paired maps, on `grid`."""
    return float(np.median([pearson(resample(m, grid), resample(r, grid)) for m, r in zip(maps, references)]))


@dataclass(frozen=True)
class ValueLimits:
    """The values a student's map may hold, by its size.

    At the layer's size a map is what Grad-CAM computed: no negative value and a maximum of 1,
    up to float tolerance. A map upsampled to the image may under- and overshoot by
    interpolation (bicubic, lanczos) or lose its peak between pixels (bilinear): it gets the
    wider `upsampled_*` limits.
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
        """Indices of the maps whose maximum is out of range (not divided by the maximum)."""
        return [i for i, m in enumerate(maps) if not self.peak(m.shape)[0] <= float(np.max(m)) <= self.peak(m.shape)[1]]

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


# Same pattern as the reference's up to scale: only the values tell it apart.
_VALUE_ONLY = ("not_normalised",)


def diagnose(maps: list[np.ndarray], variants: dict[str, np.ndarray], *, grid: tuple[int, int]) -> Diagnosis:
    """Find the known mistake whose maps the student's maps are closest to.

    Args:
        maps: the student's maps (2-D, any size), one per graded case.
        variants: maps of the same cases by the reference ("correct") and by each known mistake
            (a MISTAKES key, or "layer:<name>" for another layer's correct map).
        grid: the image grid the maps are compared on.

    Returns:
        The variant with the highest median Pearson r (blind to scale and offset); a tie, to
        3 decimals, goes to "correct".
    """
    scores = {key: median_r(maps, list(variant), grid=grid)
              for key, variant in variants.items() if key not in _VALUE_ONLY}
    closest = max(scores, key=lambda key: (round(scores[key], 3), key == CORRECT))
    if not closest.startswith("layer:"):
        return Diagnosis(closest, scores)
    scores["wrong_layer"] = scores[closest]
    return Diagnosis("wrong_layer", scores, layer=closest.partition(":")[2])


# -- pictures ---------------------------------------------------------------------------

def overlay_png(rows: list[tuple[str, np.ndarray, list[tuple[str, np.ndarray]]]]) -> str:
    """A PNG (base64 text) of digits beside heatmap overlays, one row per (digit, class).

    Args:
        rows: (row title, digit (28, 28) with pixels 0..1, [(panel title, heatmap), ...]); each
            heatmap is resampled onto the digit and drawn in "jet" at half opacity.

    Returns:
        The PNG file as an ASCII base64 string (for a data: URL in the report).
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    columns = 1 + max(len(panels) for _, _, panels in rows)
    figure, axes = plt.subplots(len(rows), columns, figsize=(1.5 * columns, 1.75 * len(rows)), squeeze=False)
    for axis_row, (title, digit, panels) in zip(axes, rows):
        image = np.asarray(digit, dtype=np.float64)
        axis_row[0].imshow(image, cmap="gray")
        axis_row[0].set_title(title, fontsize=7)
        for axis, (panel_title, heatmap) in zip(axis_row[1:], panels):
            axis.imshow(image, cmap="gray")
            axis.imshow(_displayable(heatmap, image.shape), cmap="jet", alpha=0.5, vmin=0.0, vmax=1.0)
            axis.set_title(panel_title, fontsize=7)
    for axis in axes.ravel():
        axis.axis("off")
    figure.tight_layout(pad=0.3)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=72)
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _displayable(heatmap: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    # Scaled to [0, 1] for display only, so a map that was never normalised still shows its pattern.
    shown = np.nan_to_num(resample(heatmap, shape[:2]), nan=0.0, posinf=0.0, neginf=0.0)
    low, high = min(float(shown.min()), 0.0), float(shown.max())
    return (shown - low) / (high - low) if high > low else np.zeros_like(shown)
