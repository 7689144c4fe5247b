"""q7 answers as students' grad_cam functions return them, computed in batches, and a fake student that
serves them to the grader's own checks in-process (the seed sweep and the argument-coverage test).

Each answer is `answer(model, images, layer_name, asked) -> list of maps` for a batch of calls (asked:
the class_index of each call, None for the predicted class, OMITTED where the call leaves it out): the
right one, every known mistake, and
the right maps in every legitimate form (a batch or channel axis, float64, an epsilon, upsampled).
"""

from __future__ import annotations

import numpy as np

from graders.questions.q7 import grader_model
from graders.questions.q7.trusted import finish, mean_activations, raw_cams
from tests.reference.in_process import FakeStudent

GRID = (28, 28)


OMITTED = "left out"  # a call that leaves class_index out: the function's default decides (None here)


def _classes(model, images, asked, *, zero_as_none=False, ignore=False) -> np.ndarray:
    predicted = np.asarray(model(images, training=False)).argmax(axis=1)
    if ignore:
        return predicted
    return np.array([p if (a is None or a is OMITTED or (zero_as_none and not a)) else a
                     for a, p in zip(asked, predicted)])


def _cams(**options):
    """A grad_cam with the right steps but `options` (raw_cams' score/pooled, finish's relu/normalise, a layer)."""
    finishing = {key: options.pop(key) for key in ("relu", "normalise") if key in options}
    layer, classes = options.pop("layer", None), {key: options.pop(key) for key in ("zero_as_none", "ignore")
                                                  if key in options}

    def answer(model, images, layer_name, asked):
        raw = raw_cams(model, images, _classes(model, images, asked, **classes), layer_name=layer or layer_name,
                       **options)
        return list(finish(raw, **finishing))

    return answer


def _min_max(model, images, layer_name, asked):
    raw = raw_cams(model, images, _classes(model, images, asked), layer_name=layer_name)
    low, high = raw.min(axis=(1, 2), keepdims=True), raw.max(axis=(1, 2), keepdims=True)
    return list(np.divide(raw - low, high - low, out=np.zeros_like(raw), where=high > low))


def _unweighted(model, images, layer_name, asked):
    return list(finish(mean_activations(model, images, layer_name=layer_name)))


def _all_zero(model, images, layer_name, asked):
    return list(np.zeros((len(images), *model.get_layer(layer_name).output.shape[1:3])))


def training_mode(model, images, layer_name, asked, *, seed: int = 0):
    """The textbook recipe with the model called as `grad_model(image, training=True)`, one image at a time
    (BatchNormalization on the image's own statistics, Dropout active)."""
    import keras
    import tensorflow as tf

    classes = _classes(model, images, asked)
    model, weights = keras.models.clone_model(model), model.get_weights()  # training mode moves BN's statistics
    model.set_weights(weights)
    head = model.layers[-1]
    features_and_hidden = keras.Model(model.input, [model.get_layer(layer_name).output, head.input])
    tf.random.set_seed(seed)
    maps = []
    for image, cls in zip(images, classes):
        with tf.GradientTape() as tape:
            features, hidden = features_and_hidden(image[None], training=True)
            score = (tf.matmul(hidden, head.kernel) + head.bias)[0, int(cls)]
        weights = tf.reduce_mean(tape.gradient(score, features), axis=(1, 2), keepdims=True)
        maps.append(tf.reduce_sum(features * weights, axis=-1).numpy()[0].astype(np.float64))
    return list(finish(np.stack(maps)))


MISTAKES = {
    "no_relu": _cams(relu=False),
    "min_max_scaled": _min_max,
    "not_normalised": _cams(normalise=False),
    "softmax_gradient": _cams(score="softmax"),
    "unpooled_gradients": _cams(pooled=False),
    "unweighted_activations": _unweighted,
    "ignored_class_index": _cams(ignore=True),
    "class_zero_as_none": _cams(zero_as_none=True),
    "softmax_ignored_class_index": _cams(score="softmax", ignore=True),
    "always_conv1": _cams(layer="conv1"),
    "always_conv2": _cams(layer="conv2"),
    "ignored_layer_name": _cams(layer=grader_model.LAST_CONV),
    "training_mode": training_mode,
    "all_zero": _all_zero,
}
_RIGHT = _cams()
_KEPT: dict = {}


def CORRECT(model, images, layer_name, asked):  # noqa: N802 - an answer, like the mistakes'
    """The right maps (kept: every legitimate form of a batch starts from them)."""
    key = (id(model), layer_name, images.tobytes(), tuple(asked))
    if key not in _KEPT:
        if len(_KEPT) > 16:  # a few batches: those of one seed
            _KEPT.clear()
        _KEPT[key] = _RIGHT(model, images, layer_name, asked)
    return [m.copy() for m in _KEPT[key]]


def legitimate_forms() -> dict:
    """Right answers written differently: {name: answer}."""
    import scipy.ndimage
    import tensorflow as tf

    def form(transform):
        return lambda *args: [transform(m) for m in CORRECT(*args)]

    def resized(method):
        return form(lambda m: tf.image.resize(m[..., None].astype(np.float32), GRID, method=method).numpy()[..., 0])

    forms = {"as_returned": form(lambda m: m.astype(np.float32)), "batch_axis": form(lambda m: m[None]),
             "channel_axis": form(lambda m: m[..., None]), "float64": form(lambda m: m.astype(np.float64)),
             "epsilon_denominator": form(lambda m: m * m.max() / (m.max() + 1e-7))}
    for method in ("bilinear", "nearest", "bicubic", "lanczos3", "area", "mitchellcubic"):
        forms[f"resize_{method}"] = resized(method)
    for order in (1, 3):
        forms[f"zoom_order{order}"] = form(
            lambda m, order=order: scipy.ndimage.zoom(m, np.divide(GRID, m.shape), order=order))
    return forms


class GradCamStudent(FakeStudent):
    """A fake student whose grad_cam is `answer`, served through the q7 probe's request format in batches."""

    def __init__(self, answer, models: dict, *, training: bool = False, names: dict | None = None):
        super().__init__({"grad_cam": answer, **(names or {})}, plain=False)
        self.answer, self.models, self.training = answer, models, training

    def share_file(self, path) -> str:
        return str(path)

    def probe(self, module, name, *, needs=(), timeout=None, **kwargs):
        if name == "ready":
            return True
        if name != "grad_cam_maps":
            raise NotImplementedError(name)
        images, requests = np.asarray(kwargs["images"], dtype=np.float32), kwargs["requests"]
        maps: list = [None] * len(requests)
        groups: dict = {}
        for i, (model, index, layer, asked, by_default) in enumerate(requests):
            groups.setdefault((model, layer), []).append((i, index, OMITTED if by_default else asked))
        for (model, layer), calls in groups.items():
            rows = [index for _, index, _ in calls]
            for (i, _, _), heatmap in zip(calls, self.answer(self.models[model], images[rows], layer,
                                                             [asked for _, _, asked in calls])):
                maps[i] = heatmap
        return {"maps": maps, "training": [self.training] * len(requests)}


def _first_model(answer):
    """`answer` on the first model it was given, whatever model a later call gets (`model` ignored)."""
    seen: list = []

    def ignoring(model, images, layer_name, asked):
        seen[:] = seen or [model]
        return answer(seen[0], images, layer_name, asked)

    return ignoring


def _first_image(answer):
    """`answer` on the batch's first image for every call (`image` ignored)."""
    return lambda model, images, layer_name, asked: answer(model, np.repeat(images[:1], len(images), axis=0),
                                                           layer_name, asked)


def _default(answer, default):
    """`answer` with another default for class_index (the calls that leave it out get `default`)."""
    return lambda model, images, layer_name, asked: answer(model, images, layer_name,
                                                           [default if a is OMITTED else a for a in asked])


def argument_variants() -> dict:
    """The right grad_cam with one argument of the contract ignored, or one default changed: each must lose points."""
    return {"model": _first_model(CORRECT), "image": _first_image(CORRECT), "layer_name": MISTAKES["ignored_layer_name"],
            "class_index": MISTAKES["ignored_class_index"], "class_index=None": _default(CORRECT, 0)}
