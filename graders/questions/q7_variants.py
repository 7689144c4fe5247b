"""Grad-CAM as the reference computes it and as each known mistake computes it, for a batch of cases.

The grader diagnoses a student's heatmaps by comparing them with these maps (see
`heatmaps.diagnose`). One gradient pass per (layer, score) pair covers every case: the
cases of a batch are independent, so the gradient of the sum of their scores is each
case's own gradient. Trusted process only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from graders.harness.errors import HarnessError

CONFIDENT = 0.9  # a "clear" digit: correctly classified with at least this probability


@dataclass(frozen=True)
class Case:
    """One graded heatmap: a test digit and the class explained."""

    digit: int  # index into the test split
    class_index: int
    predicted: bool  # the model's prediction (asked for with class_index=None), else the runner-up
    ambiguous: bool  # one of the digits whose top two classes are closest


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
        cases = self.selection.cases
        arrays = {"layer": np.array(self.layer), "random_digits": np.array(self.selection.random_digits),
                  "predicted": self.selection.predicted,
                  "cases": np.array([[c.digit, c.class_index, c.predicted, c.ambiguous] for c in cases])}
        arrays.update({f"variant={key}": maps for key, maps in self.variants.items()})
        arrays.update({f"shape={name}": np.array(shape) for name, shape in self.layer_shapes.items()})
        return arrays

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> "ReferenceMaps":
        cases = [Case(int(d), int(c), bool(p), bool(a)) for d, c, p, a in arrays["cases"]]
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
    maps = variant_maps(model, images[digits], classes, selection.predicted[digits], layer_name=layer)
    maps["correct"] = np.stack([grad_cam(model, images[d], layer, int(c)) for d, c in zip(digits, classes)])
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


def mean_activations(model, images: np.ndarray, *, layer_name: str) -> np.ndarray:
    """(n, h, w) channel means of a layer's feature maps: a "heatmap" with no gradient in it."""
    import keras

    features = keras.Model(model.input, model.get_layer(layer_name).output)(images, training=False)
    return np.asarray(features, dtype=np.float64).mean(axis=-1)


def variant_maps(model, images: np.ndarray, classes: np.ndarray, predicted: np.ndarray, *,
                 layer_name: str) -> dict[str, np.ndarray]:
    """The correct maps and each known mistake's maps of the same cases.

    Args:
        predicted: (n,) each image's predicted class, for the mistake that ignores `class_index`.

    Returns:
        {"correct", "no_relu", "not_normalised", "softmax_gradient", "unpooled_gradients",
        "unweighted_activations", "ignored_class_index", "layer:<name>" for every other conv
        layer}: each (n, h, w), h x w that layer's size. "correct" comes first.
    """
    logit = raw_cams(model, images, classes, layer_name=layer_name)
    maps = {
        "correct": finish(logit),
        "no_relu": finish(logit, relu=False),
        "not_normalised": finish(logit, normalise=False),
        "softmax_gradient": finish(raw_cams(model, images, classes, layer_name=layer_name, score="softmax")),
        "unpooled_gradients": finish(raw_cams(model, images, classes, layer_name=layer_name, pooled=False)),
        "unweighted_activations": finish(mean_activations(model, images, layer_name=layer_name)),
        "ignored_class_index": finish(raw_cams(model, images, predicted, layer_name=layer_name)),
    }
    for other in conv_layer_names(model):
        if other != layer_name:
            maps[f"layer:{other}"] = finish(raw_cams(model, images, classes, layer_name=other))
    return maps


def select_cases(model, random_model, images: np.ndarray, labels: np.ndarray, rng: np.random.Generator, *,
                 layer_name: str, n_clear: int, n_ambiguous: int, n_random: int, min_positive: int,
                 pool: int = 32) -> Selection:
    """Pick the digits to grade, skipping any whose reference map would be degenerate.

    A case is kept when the reference's map, and the softmax-gradient map it is told apart
    from, have at least `min_positive` positive cells: an all-zero map has no pattern to match.

    Args:
        model, random_model: the trained reference CNN and its copy with a re-initialised classifier.
        images, labels: the test split, model input format.
        rng: draws the clear digits.
        n_clear: confidently and correctly classified digits, drawn at random.
        n_ambiguous: the digits whose two most probable classes are closest.
        n_random: digits of the randomisation test (maps not degenerate in either model).

    Returns:
        Cases in digit order, predicted class first, then runner-up.

    Raises:
        HarnessError: when the test split has too few usable digits.
    """
    probabilities = model.predict(images, verbose=0, batch_size=256)
    ranked = np.sort(probabilities, axis=1)
    predicted, runner_up = probabilities.argmax(axis=1), np.argsort(probabilities, axis=1)[:, -2]
    ambiguous_pool = np.argsort(ranked[:, -1] - ranked[:, -2], kind="stable")[:pool]
    confident = np.flatnonzero((predicted == labels) & (ranked[:, -1] >= CONFIDENT))
    taken = set(ambiguous_pool.tolist())
    clear_pool = np.array([i for i in rng.permutation(confident) if i not in taken][:pool], dtype=int)

    def usable(digits: np.ndarray, net, class_sets, scores) -> np.ndarray:
        keep = np.ones(len(digits), dtype=bool)
        for classes in class_sets:
            for score in scores:
                raw = raw_cams(net, images[digits], classes[digits], layer_name=layer_name, score=score)
                keep &= (raw > 0).sum(axis=(1, 2)) >= min_positive
        return digits[keep]

    both_classes, both_scores = (predicted, runner_up), ("logit", "softmax")
    ambiguous = usable(ambiguous_pool, model, both_classes, both_scores)[:n_ambiguous]
    clear = usable(clear_pool, model, both_classes, both_scores)[:n_clear]
    graded = [int(d) for d in (*clear, *ambiguous)]
    candidates = np.array(graded + [int(d) for d in clear_pool if d not in graded], dtype=int)
    trained_ok = usable(candidates, model, (predicted,), ("logit",))
    random_digits = [int(d) for d in usable(trained_ok, random_model, (predicted,), ("logit",))[:n_random]]
    if len(clear) < n_clear or len(ambiguous) < n_ambiguous or len(random_digits) < n_random:
        raise HarnessError(f"q7: too few test digits with a non-degenerate reference heatmap "
                           f"({len(clear)} clear, {len(ambiguous)} ambiguous, {len(random_digits)} for randomisation)")
    ambiguous_set = {int(d) for d in ambiguous}
    cases = [Case(d, int(cls), is_predicted, d in ambiguous_set)
             for d in graded for cls, is_predicted in ((predicted[d], True), (runner_up[d], False))]
    return Selection(cases=cases, random_digits=random_digits, predicted=predicted)
