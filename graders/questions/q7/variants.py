"""The graded Grad-CAM cases, and the maps of the reference and of each known mistake on them.

The grader diagnoses a student's heatmaps by comparing them with these maps (see
`heatmaps`); the seed sweep grades each mistake's maps (`mistake_maps`) and each legitimate
form of the reference's (`legitimate_forms`). One gradient pass per (layer, score) pair covers
every case: the cases of a batch are independent, so the gradient of the sum of their scores is
each case's own gradient. Trusted process only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from graders.core.errors import HarnessError
from graders.questions.q7 import heatmaps

CONFIDENT = 0.9  # a "clear" digit: correctly classified with at least this probability
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
    def ambiguous(self) -> bool:
        return self.group == "ambiguous"

    @property
    def asked(self) -> int | None:
        """What the grader passes as class_index."""
        return None if self.predicted else self.class_index


@dataclass(frozen=True)
class Selection:
    """The graded cases, and the digits of the model-randomisation test (their predicted class)."""

    cases: list[Case]
    random_digits: list[int]
    predicted: np.ndarray  # (n_test,) the trained model's predicted class of every test digit


@dataclass(frozen=True)
class ReferenceMaps:
    """What the grader compares a student with: the cases, and every variant's maps of them."""

    selection: Selection
    variants: dict[str, np.ndarray]  # "correct" (the reference's grad_cam), then the known mistakes
    layer: str  # the layer explained: the last convolution
    layer_shapes: dict[str, tuple[int, int]]  # every convolution's output size

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Plain arrays, for an .npz cache (`from_arrays` reverses it)."""
        cases = [[c.digit, c.class_index, ROLES.index(c.role), GROUPS.index(c.group)] for c in self.selection.cases]
        arrays = {"layer": np.array(self.layer), "random_digits": np.array(self.selection.random_digits),
                  "predicted": self.selection.predicted, "cases": np.array(cases)}
        arrays.update({f"variant={key}": maps for key, maps in self.variants.items()})
        arrays.update({f"shape={name}": np.array(shape) for name, shape in self.layer_shapes.items()})
        return arrays

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> "ReferenceMaps":
        cases = [Case(int(d), int(c), ROLES[int(r)], GROUPS[int(g)]) for d, c, r, g in arrays["cases"]]
        selection = Selection(cases, [int(d) for d in arrays["random_digits"]], arrays["predicted"])
        variants = {key.partition("=")[2]: value for key, value in arrays.items() if key.startswith("variant=")}
        shapes = {key.partition("=")[2]: tuple(int(v) for v in value)
                  for key, value in arrays.items() if key.startswith("shape=")}
        return cls(selection, variants, str(arrays["layer"]), shapes)


def reference_maps(model, random_model, images: np.ndarray, labels: np.ndarray, rng: np.random.Generator,
                   **selection_settings) -> ReferenceMaps:
    """Select the cases (see `select_cases`) and compute the reference's and each mistake's maps of them.

    "correct" is the reference's own `grad_cam`, case by case: the truth, not a re-implementation.
    """
    from reference.q7_gradcam import grad_cam

    layer = conv_layer_names(model)[-1]
    selection = select_cases(model, random_model, images, labels, rng, layer_name=layer, **selection_settings)
    digits = np.array([case.digit for case in selection.cases])
    classes = np.array([case.class_index for case in selection.cases])
    maps = variant_maps(model, images[digits], classes, layer_name=layer)
    maps["correct"] = np.stack([grad_cam(model, images[case.digit], layer, case.asked) for case in selection.cases])
    shapes = {name: tuple(model.get_layer(name).output.shape[1:3]) for name in conv_layer_names(model)}
    return ReferenceMaps(selection, maps, layer, shapes)


def conv_layer_names(model) -> list[str]:
    """Names of the model's 2-D convolution layers, input side first."""
    import keras

    return [layer.name for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]


def raw_cams(model, images: np.ndarray, classes: np.ndarray, *, layer_name: str, score: str = "logit",
             pooled: bool = True) -> np.ndarray:
    """Weighted sums of a layer's feature maps, before ReLU and normalisation.

    Args:
        model: a Functional model ending in a Dense layer (softmax or linear).
        images: (n, *model input shape) float32.
        classes: (n,) the class explained for each image.
        layer_name: the layer whose feature maps are weighted.
        score: "logit" (the pre-softmax score, correct) or "softmax" (the probability).
        pooled: average the gradients per channel (correct) or weight each pixel by its own gradient.

    Returns:
        (n, height, width) float64 maps.
    """
    import keras
    import tensorflow as tf

    head = model.layers[-1]
    features_and_hidden = keras.Model(model.input, [model.get_layer(layer_name).output, head.input])
    with tf.GradientTape() as tape:
        features, hidden = features_and_hidden(tf.constant(images, dtype=tf.float32), training=False)
        logits = tf.matmul(hidden, head.kernel) + (head.bias if head.use_bias else 0.0)
        scores = logits if score == "logit" else tf.nn.softmax(logits)
        chosen = tf.gather(scores, tf.constant(classes, dtype=tf.int32), batch_dims=1)
    gradients = tape.gradient(chosen, features)  # of the sum over the batch: each case's own gradient
    if pooled:
        gradients = tf.reduce_mean(gradients, axis=(1, 2), keepdims=True)
    return tf.reduce_sum(features * gradients, axis=-1).numpy().astype(np.float64)


def finish(raw: np.ndarray, *, relu: bool = True, normalise: bool = True) -> np.ndarray:
    """ReLU and divide each map by its maximum, as Grad-CAM does (or skip either step).

    A map without a positive value stays unscaled, as the reference returns zeros there.
    """
    maps = np.maximum(raw, 0.0) if relu else raw.copy()
    if normalise:
        peaks = maps.max(axis=(1, 2), keepdims=True)
        maps = np.divide(maps, peaks, out=np.zeros_like(maps) if relu else maps, where=peaks > 0)
    return maps


def min_max(raw: np.ndarray) -> np.ndarray:
    """Each map shifted and scaled into [0, 1]: the negative evidence kept (the min-max mistake)."""
    low, high = raw.min(axis=(1, 2), keepdims=True), raw.max(axis=(1, 2), keepdims=True)
    return np.divide(raw - low, high - low, out=np.zeros_like(raw), where=high > low)


def mean_activations(model, images: np.ndarray, *, layer_name: str) -> np.ndarray:
    """(n, h, w) channel means of a layer's feature maps: a "heatmap" with no gradient in it."""
    import keras

    features = keras.Model(model.input, model.get_layer(layer_name).output)(images, training=False)
    return np.asarray(features, dtype=np.float64).mean(axis=-1)


def variant_maps(model, images: np.ndarray, classes: np.ndarray, *, layer_name: str) -> dict[str, np.ndarray]:
    """The correct maps and each known pattern mistake's maps of the same cases (what the grader compares with).

    Returns:
        {"correct", "no_relu", "not_normalised", "softmax_gradient", "softmax_no_relu",
        "unpooled_gradients", "unweighted_activations", "layer:<name>" for every other conv
        layer}: each (n, h, w), h x w that layer's size. "correct" comes first.
    """
    logit = raw_cams(model, images, classes, layer_name=layer_name)
    softmax = raw_cams(model, images, classes, layer_name=layer_name, score="softmax")
    maps = {
        "correct": finish(logit),
        "no_relu": finish(logit, relu=False),
        "not_normalised": finish(logit, normalise=False),
        "softmax_gradient": finish(softmax),
        "softmax_no_relu": finish(softmax, relu=False),
        "unpooled_gradients": finish(raw_cams(model, images, classes, layer_name=layer_name, pooled=False)),
        "unweighted_activations": finish(mean_activations(model, images, layer_name=layer_name)),
    }
    for other in conv_layer_names(model):
        if other != layer_name:
            maps[f"layer:{other}"] = finish(raw_cams(model, images, classes, layer_name=other))
    return maps


def mistake_maps(model, images: np.ndarray, asked: list[int | None], *, layer_name: str) -> dict[str, np.ndarray]:
    """What a student's grad_cam with each known mistake returns for (image, class_index) calls.

    Args:
        images: (n, *input shape); asked: the n class_index arguments (None: the predicted class).

    Returns:
        {mistake: (n, h, w) maps}: the pattern mistakes of `variant_maps`, "min_max_scaled",
        "ignored_class_index", "class_zero_as_none" (`class_index or argmax`),
        "softmax_ignored_class_index" (both at once) and "all_zero".
    """
    predicted = np.asarray(model(images, training=False)).argmax(axis=1)
    classes = np.array([p if a is None else a for a, p in zip(asked, predicted)])
    zero_as_none = np.array([p if not a else a for a, p in zip(asked, predicted)])
    maps = variant_maps(model, images, classes, layer_name=layer_name)
    maps.pop("softmax_no_relu")
    logit = raw_cams(model, images, classes, layer_name=layer_name)
    maps.update({
        "min_max_scaled": min_max(logit),
        "ignored_class_index": finish(raw_cams(model, images, predicted, layer_name=layer_name)),
        "class_zero_as_none": finish(raw_cams(model, images, zero_as_none, layer_name=layer_name)),
        "softmax_ignored_class_index": finish(raw_cams(model, images, predicted, layer_name=layer_name,
                                                       score="softmax")),
        "all_zero": np.zeros_like(logit),
    })
    return maps


def legitimate_forms(correct: np.ndarray, image_shape: tuple[int, int]) -> dict[str, list[np.ndarray]]:
    """Right answers written differently: the reference's (n, h, w) maps as a student may return them.

    A batch or channel axis; upsampled to the image by every tf.image.resize method and by
    scipy.ndimage.zoom (orders 1 and 3); an epsilon in the denominator; float64.
    """
    import scipy.ndimage
    import tensorflow as tf

    forms = {"as_returned": list(correct.astype(np.float32)), "batch_axis": [m[None] for m in correct],
             "channel_axis": [m[..., None] for m in correct], "float64": list(correct.astype(np.float64)),
             "epsilon_denominator": [m * m.max() / (m.max() + 1e-7) for m in correct]}
    for method in ("bilinear", "nearest", "bicubic", "lanczos3", "area", "mitchellcubic"):
        resized = tf.image.resize(correct[..., None].astype(np.float32), image_shape, method=method)
        forms[f"resize_{method}"] = list(resized.numpy()[..., 0])
    for order in (1, 3):
        forms[f"zoom_order{order}"] = [scipy.ndimage.zoom(m, np.divide(image_shape, m.shape), order=order)
                                       for m in correct]
    return forms


def select_cases(model, random_model, images: np.ndarray, labels: np.ndarray, rng: np.random.Generator, *,
                 layer_name: str, n_clear: int, n_ambiguous: int, n_negative: int, n_random: int, min_positive: int,
                 class_distinct_max: float, negative_evidence_max_r: float, pool: int = 32) -> Selection:
    """Pick the graded cases: each check gets inputs where its mistake shows, on every seed.

    - clear digits (drawn by `rng` among the confidently, correctly classified ones): the
      predicted class, the runner-up, class 0 and a class ranked third or lower (drawn);
    - ambiguous digits (the closest top two classes): the predicted class and the runner-up;
    - negative-evidence digits (drawn): the predicted class, where the reference's map with and
      without its ReLU correlate at most `negative_evidence_max_r`, so a map that keeps the
      negative evidence shows it.
    Every map of the reference, and of the softmax gradient it is told apart from, has at least
    `min_positive` positive cells (an all-zero map has no pattern); every class asked by number
    has a map that correlates at most `class_distinct_max` with the predicted class's map, so a
    map that explains the wrong class shows it.

    Args:
        model, random_model: the trained reference CNN and its copy with a re-initialised classifier.
        images, labels: the test split, model input format.
        n_random: digits of the randomisation test (maps not degenerate in either model).

    Returns:
        Cases by digit, the predicted class first (clear, then ambiguous, then negative-evidence digits).

    Raises:
        HarnessError: when the test split has too few usable digits.
    """
    probabilities = model.predict(images, verbose=0, batch_size=256)
    ranking = np.argsort(-probabilities, axis=1, kind="stable")
    predicted, runner_up = ranking[:, 0], ranking[:, 1]
    top = np.take_along_axis(probabilities, ranking[:, :2], axis=1)
    ambiguous_pool = np.argsort(top[:, 0] - top[:, 1], kind="stable")[:pool]
    confident = np.flatnonzero((predicted == labels) & (top[:, 0] >= CONFIDENT) & (predicted != 0) & (runner_up != 0))
    clear_pool = np.array([i for i in rng.permutation(confident) if i not in set(ambiguous_pool.tolist())][:pool], int)
    pairs = [(d, c) for d in ambiguous_pool for c in ranking[d, :2]] + [(d, c) for d in clear_pool for c in range(10)]
    maps = _PoolMaps(model, images, pairs, predicted, layer_name=layer_name, min_positive=min_positive,
                     distinct_max=class_distinct_max)
    ambiguous = [int(d) for d in ambiguous_pool if maps.distinct(d, runner_up[d])][:n_ambiguous]
    clear = _clear_digits(maps, clear_pool, ranking, rng, wanted=n_clear)
    graded = {*ambiguous, *(d for d, _ in clear)}
    negative = _negative_evidence_digits(model, images, predicted, rng, graded, layer_name=layer_name,
                                         min_positive=min_positive, max_r=negative_evidence_max_r, wanted=n_negative)
    candidates = np.array([d for d, _ in clear] + [int(d) for d in clear_pool if int(d) not in graded], dtype=int)
    random_digits = _random_digits(model, random_model, images[candidates], candidates, predicted, wanted=n_random,
                                   layer_name=layer_name, min_positive=min_positive)
    if (len(clear), len(ambiguous), len(negative), len(random_digits)) != (n_clear, n_ambiguous, n_negative, n_random):
        raise HarnessError(f"q7: too few test digits with a non-degenerate reference heatmap ({len(clear)} clear, "
                           f"{len(ambiguous)} ambiguous, {len(negative)} with negative evidence, "
                           f"{len(random_digits)} for randomisation)")
    cases = []
    for d, other in clear:
        cases += [Case(d, int(predicted[d]), "predicted", "clear"), Case(d, int(runner_up[d]), "runner-up", "clear"),
                  Case(d, 0, "class 0", "clear"), Case(d, other, "other class", "clear")]
    for d in ambiguous:
        cases += [Case(d, int(predicted[d]), "predicted", "ambiguous"),
                  Case(d, int(runner_up[d]), "runner-up", "ambiguous")]
    cases += [Case(d, int(predicted[d]), "predicted", "negative evidence") for d in negative]
    return Selection(cases=cases, random_digits=random_digits, predicted=predicted)


def _clear_digits(maps: "_PoolMaps", pool: np.ndarray, ranking: np.ndarray, rng, *, wanted: int) -> list[tuple]:
    """(digit, other class) of the first `wanted` digits whose runner-up, class 0 and a drawn lower class qualify."""
    chosen = []
    for d in pool:
        if len(chosen) == wanted:
            break
        if maps.distinct(d, ranking[d, 1]) and maps.distinct(d, 0):
            lower = [int(c) for c in rng.permutation(ranking[d, 2:]) if c != 0]
            other = next((c for c in lower if maps.distinct(d, c)), None)
            if other is not None:
                chosen.append((int(d), other))
    return chosen


def _random_digits(model, random_model, images, digits, predicted, *, wanted, layer_name, min_positive) -> list[int]:
    """The first `wanted` digits whose predicted-class map has positive cells on both models."""
    classes = predicted[digits]
    keep = _positive_cells(model, images, classes, layer_name) >= min_positive
    keep[keep] = _positive_cells(random_model, images[keep], classes[keep], layer_name) >= min_positive
    return [int(d) for d in digits[keep][:wanted]]


class _PoolMaps:
    """The reference's maps (logit and softmax) of the candidate (digit, class) pairs, in one pass each."""

    def __init__(self, model, images, pairs, predicted, *, layer_name, min_positive, distinct_max):
        pairs = sorted({(int(d), int(c)) for d, c in pairs})
        self._row = {pair: i for i, pair in enumerate(pairs)}
        digits, classes = (np.array(column) for column in zip(*pairs))
        self._positive = np.ones(len(pairs), dtype=bool)
        for score in ("logit", "softmax"):
            raw = raw_cams(model, images[digits], classes, layer_name=layer_name, score=score)
            self._positive &= (raw > 0).sum(axis=(1, 2)) >= min_positive
            if score == "logit":
                self._maps = finish(raw)
        self._predicted, self._distinct_max, self._grid = predicted, distinct_max, images.shape[1:3]

    def usable(self, digit, cls) -> bool:
        """The reference's map and the softmax-gradient map have enough positive cells."""
        return bool(self._positive[self._row[int(digit), int(cls)]])

    def distinct(self, digit, cls) -> bool:
        """Usable, and the map of `cls` is not much like the map of the predicted class."""
        predicted = int(self._predicted[digit])
        if not (self.usable(digit, cls) and self.usable(digit, predicted)):
            return False
        ours, theirs = (self._maps[self._row[int(digit), c]] for c in (int(cls), predicted))
        r = heatmaps.pearson(heatmaps.resample(ours, self._grid), heatmaps.resample(theirs, self._grid))
        return r <= self._distinct_max


def _positive_cells(model, images, classes, layer_name) -> np.ndarray:
    return (raw_cams(model, images, classes, layer_name=layer_name) > 0).sum(axis=(1, 2))


def _negative_evidence_digits(model, images, predicted, rng, taken, *, layer_name, min_positive, max_r, wanted,
                              chunk=256):
    """Digits (drawn) whose predicted-class map, by logit and by softmax, changes with the ReLU: r <= max_r.

    1-10 % of the digits qualify, so they are looked for `chunk` drawn digits at a time.
    """
    drawn = np.array([int(d) for d in rng.permutation(len(images)) if int(d) not in taken])
    found: list[int] = []
    for start in range(0, len(drawn), chunk):
        digits = drawn[start:start + chunk]
        keep = np.ones(len(digits), dtype=bool)
        for score in ("logit", "softmax"):
            raw = raw_cams(model, images[digits], predicted[digits], layer_name=layer_name, score=score)
            keep &= ((raw > 0).sum(axis=(1, 2)) >= min_positive) & (_relu_r(raw, images.shape[1:3]) <= max_r)
        found += [int(d) for d in digits[keep]]
        if len(found) >= wanted:
            break
    return found[:wanted]


def _relu_r(raw: np.ndarray, grid) -> np.ndarray:
    """Per map, r between the finished map with and without its ReLU (on `grid`)."""
    return np.array([heatmaps.pearson(heatmaps.resample(a, grid), heatmaps.resample(b, grid))
                     for a, b in zip(finish(raw), finish(raw, relu=False))])
