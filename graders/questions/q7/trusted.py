"""q7's trusted computations (graders/core/trusted.py): the graded Grad-CAM cases of a seed, and the
reference's and the known mistakes' maps of them, on the grader's own CNN (grader_model.py).

TA side only: this module computes Grad-CAM (the answer), so the student kit leaves it out and ships
the value it recorded at the public seed. It depends only on the seed's test digits, the rubric's
selection settings and the grader's CNN, never on a submission, and is cached per request as JSON.
One gradient pass per (layer, score) covers a batch of cases: the cases of a batch are independent,
so the gradient of the sum of their scores is each case's own gradient.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zlib
from pathlib import Path

import numpy as np

from graders.core.errors import HarnessError
from graders.core.paths import cache_dir
from graders.core.trusted import decode, encode, request_key
from graders.questions.q7 import cases as cases_module
from graders.questions.q7 import grader_model, heatmaps
from graders.questions.q7 import selection as selection_module
from graders.questions.q7.cases import Selection, Setup

_CACHE_FORMAT = 1


# -- Grad-CAM, and its known mistakes ---------------------------------------------------------

def raw_cams(model, images: np.ndarray, classes: np.ndarray, *, layer_name: str, score: str = "logit",
             pooled: bool = True) -> np.ndarray:
    """Weighted sums of a layer's feature maps, before ReLU and normalisation: (n, h, w) float64.

    Args:
        model: a Functional model ending in a Dense layer; images: (n, 28, 28, 1) float32.
        classes: (n,) the class explained for each image.
        score: "logit" (the score before the softmax: right) or "softmax" (the probability).
        pooled: weight each channel by its mean gradient (right) or each pixel by its own gradient.
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
    """ReLU and divide each map by its maximum, as Grad-CAM does (or skip either step); a map without a
    positive value stays unscaled, as the reference returns zeros there."""
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


def variant_maps(model, images: np.ndarray, classes: np.ndarray, *, layer_name: str) -> dict[str, np.ndarray]:
    """The right maps and each known pattern mistake's maps of the same cases (what the grader compares with).

    Returns:
        {"correct", "no_relu", "not_normalised", "softmax_gradient", "softmax_no_relu", "unpooled_gradients",
        "unweighted_activations", "layer:<name>" for every other convolution}: (n, h, w) each.
    """
    logit = raw_cams(model, images, classes, layer_name=layer_name)
    softmax = raw_cams(model, images, classes, layer_name=layer_name, score="softmax")
    maps = {"correct": finish(logit), "no_relu": finish(logit, relu=False), "not_normalised": finish(logit, normalise=False),
            "softmax_gradient": finish(softmax), "softmax_no_relu": finish(softmax, relu=False),
            "unpooled_gradients": finish(raw_cams(model, images, classes, layer_name=layer_name, pooled=False)),
            "unweighted_activations": finish(mean_activations(model, images, layer_name=layer_name))}
    for other in grader_model.LAYERS:
        if other != layer_name:
            maps[f"layer:{other}"] = finish(raw_cams(model, images, classes, layer_name=other))
    return maps


# -- the graded cases -------------------------------------------------------------------------

class Maps:
    """The grader CNN's probabilities and raw Grad-CAM sums on `images`, computed on demand in batches and kept."""

    def __init__(self, model, images: np.ndarray) -> None:
        self.model, self.images = model, images
        self._probabilities = None
        self._raw: dict[tuple, np.ndarray] = {}

    def probabilities(self) -> np.ndarray:
        if self._probabilities is None:
            self._probabilities = np.asarray(self.model.predict(self.images, verbose=0, batch_size=512))
        return self._probabilities

    def raw(self, digits, classes, *, layer: str, score: str = "logit") -> np.ndarray:
        """(k, h, w) raw maps of the (digit, class) pairs."""
        keys = [(layer, score, int(d), int(c)) for d, c in zip(digits, classes)]
        missing = sorted({key for key in keys if key not in self._raw})
        for start in range(0, len(missing), 512):
            batch = missing[start:start + 512]
            digits_, classes_ = (np.array([key[i] for key in batch]) for i in (2, 3))
            for key, raw in zip(batch, raw_cams(self.model, self.images[digits_], classes_, layer_name=layer,
                                                score=score)):
                self._raw[key] = raw
        return np.stack([self._raw[key] for key in keys]) if keys else np.zeros((0, 1, 1))

    def finished(self, digits, classes, *, layer: str, score: str = "logit", relu: bool = True) -> np.ndarray:
        """The same pairs' maps after Grad-CAM's ReLU (or without it) and normalisation."""
        return finish(self.raw(digits, classes, layer=layer, score=score), relu=relu)


class View:
    """`maps` seen through an index: digit i here is digit index[i] there (a seed's split of shared digits)."""

    def __init__(self, maps: Maps, index: np.ndarray) -> None:
        self.maps, self.index = maps, np.asarray(index)

    def probabilities(self) -> np.ndarray:
        return self.maps.probabilities()[self.index]

    def raw(self, digits, classes, **kwargs) -> np.ndarray:
        return self.maps.raw(self.index[np.asarray(digits, dtype=int)], classes, **kwargs)

    def finished(self, digits, classes, **kwargs) -> np.ndarray:
        return self.maps.finished(self.index[np.asarray(digits, dtype=int)], classes, **kwargs)


def select_cases(maps, random_maps, labels: np.ndarray, rng: np.random.Generator, **settings) -> Selection:
    """Pick the graded cases: each check gets inputs where its mistake shows, on every seed.

    - clear digits (drawn among the confidently, correctly classified ones): the predicted class, the
      runner-up, class 0 and a class ranked third or lower (drawn);
    - ambiguous digits (the closest top two classes): the predicted class and the runner-up;
    - negative-evidence digits (drawn): the predicted class, where the reference's map with and without
      its ReLU correlate at most `negative_evidence_max_r`;
    - layer digits (graded digits again): asked at the other layer, whose map there is not the last
      convolution's (r <= `layer_distinct_max`), so an answer that ignores `layer_name` shows;
    - randomisation digits: their predicted-class map has positive cells on both models.
    Every map graded (and the softmax gradient's it is told apart from) has at least `min_positive`
    positive cells; every class asked by number has a map with r <= `class_distinct_max` with the
    predicted class's map. Where too few digits qualify, the pool widens, then the criterion relaxes
    (never an error): each step is said in `notes`.

    Args:
        maps, random_maps: `Maps` (or `View`s) of the trained CNN and of its copy with a random classifier.
        settings: n_clear, n_ambiguous, n_negative, n_layer, n_random, min_positive, class_distinct_max,
            negative_evidence_max_r, layer_distinct_max, layer, other_layer.
    """
    return selection_module.Selector(maps, random_maps, labels, rng, **settings).select()


def _setup_value(*, seed: int, images: np.ndarray, labels: np.ndarray, **settings) -> Setup:
    paths = grader_model.model_paths()
    model, randomised = grader_model.load(paths["trained"]), grader_model.load(paths["randomised"])
    inputs = grader_model.as_model_input(images)
    rng = np.random.default_rng([seed, zlib.crc32(b"q7.cases")])
    layer, other = grader_model.LAST_CONV, grader_model.OTHER_LAYER
    selection = select_cases(Maps(model, inputs), Maps(randomised, inputs), np.asarray(labels), rng,
                             layer=layer, other_layer=other, **settings)
    digits = np.array([case.digit for case in selection.cases], dtype=int)
    classes = np.array([case.class_index for case in selection.cases], dtype=int)
    variants = variant_maps(model, inputs[digits], classes, layer_name=layer)
    variants["correct"] = _reference_maps(model, inputs, [(c.digit, layer, c.asked) for c in selection.cases])
    layer_maps = _reference_maps(model, inputs, [(d, other, None) for d in selection.layer_digits])
    shapes = {name: tuple(int(v) for v in model.get_layer(name).output.shape[1:3]) for name in grader_model.LAYERS}
    return Setup(selection, layer, other, shapes, variants, layer_maps)


def _reference_maps(model, inputs: np.ndarray, calls: list[tuple[int, str, int | None]]) -> np.ndarray:
    """The reference's own grad_cam, call by call: the truth, not a re-implementation."""
    from reference.q7_gradcam import grad_cam

    return np.stack([np.asarray(grad_cam(model, inputs[digit], layer, asked), dtype=np.float32)
                     for digit, layer, asked in calls])


def setup(*, seed: int, images: np.ndarray, labels: np.ndarray, **settings) -> dict:
    """The graded cases of `seed` and the maps the student's are compared with (cases.Setup, as plain data).

    Args:
        images, labels: the test split (uint8 (n, 28, 28) digits, labels 0..9).
        settings: the selection's settings (see `select_cases`), from the rubric.
    """
    key = hashlib.sha256(f"format={_CACHE_FORMAT};model={grader_model.model_key()}".encode())
    for module in (__file__, heatmaps.__file__, cases_module.__file__, selection_module.__file__):
        key.update(Path(module).read_bytes())
    key.update(request_key("q7", "setup", {"seed": seed, "images": images, "labels": labels, **settings}).encode())
    path = cache_dir() / f"q7-setup-{key.hexdigest()[:20]}.json"
    try:
        return decode(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, HarnessError):
        pass  # missing or damaged: a miss
    value = _setup_value(seed=seed, images=images, labels=labels, **settings).to_plain()
    _write_atomically(path, json.dumps(encode(value)))
    return value


def _write_atomically(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp")
    except OSError as exc:
        raise HarnessError(f"cannot write the q7 cache in {path.parent} (set $HW3_CACHE_DIR): {exc}") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


COMPUTE = {"setup": setup}
ANSWERS = frozenset()  # every q7 value depends on the seed's digits: the kit records them for the public seed

