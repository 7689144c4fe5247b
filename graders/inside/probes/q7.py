"""q7 probes, run inside the sandbox worker: Grad-CAM on the grader's model, and training the student's CNN.

Imports: stdlib, numpy and keras only (the sandbox hides `graders` and `reference`).
Everything returned is plain data that the grader type-checks again.
"""

from __future__ import annotations

import numpy as np


def ready() -> bool:
    """Nothing: a first request, so that the worker starts (and imports TensorFlow) early."""
    return True


def grad_cam_maps(*, grad_cam, models: dict, images, requests) -> dict:
    """Call the student's `grad_cam` once per request, each time on a fresh copy of the grader's model.

    A fresh model per call: students often change the model they receive (say
    `model.layers[-1].activation = None` to get logits), which must not leak into the next call.
    Each file is loaded once; each call gets a clone with the same weights (cheaper than a load).
    The copy's BatchNormalization and Dropout layers note whether the call ran them in training mode.

    Args:
        models: {name: path of a shared .keras file (a Functional model)}.
        images: (n, 28, 28, 1) float32 in [0, 1]; each call gets one (28, 28, 1) image.
        requests: [model name, image index, layer_name, class_index (an int or None), leave class_index out
            (the call then uses the function's default)] per call.

    Returns:
        {"maps": the values `grad_cam` returned, as it returned them, one per request;
         "training": per request, whether a BatchNormalization or Dropout layer ran in training mode}.
    """
    import keras

    loaded = {name: keras.models.load_model(path, compile=False) for name, path in models.items()}
    weights = {name: model.get_weights() for name, model in loaded.items()}
    images = np.asarray(images, dtype=np.float32)
    maps, training = [], []
    for name, index, layer_name, class_index, by_default in requests:
        model, seen = _fresh_copy(loaded[name], weights[name])
        arguments = (model, images[int(index)].copy(), layer_name) + (() if by_default else (class_index,))
        maps.append(grad_cam(*arguments))
        training.append(bool(seen))
    return {"maps": maps, "training": training}


def _fresh_copy(model, weights):
    """A clone of `model` with `weights`, whose BatchNormalization and Dropout layers record a training-mode call."""
    import keras

    copy = keras.models.clone_model(model)
    copy.set_weights(weights)
    seen: list[str] = []
    for layer in copy.layers:
        if isinstance(layer, (keras.layers.BatchNormalization, keras.layers.Dropout)):
            layer.call = _watched(layer.call, layer.name, seen)
    return copy, seen


def _watched(call, name: str, seen: list):
    def watched(*args, **kwargs):
        if kwargs.get("training") is True:
            seen.append(name)
        return call(*args, **kwargs)

    return watched


def train_cnn(*, build_mnist_cnn, x_train, y_train, x_test, epochs: int, batch_size: int) -> dict:
    """Build the student's CNN with `build_mnist_cnn()`, train it with the grader's budget, predict the test digits.

    No test label comes in: the grader computes the accuracy from the returned scores.

    Args:
        x_train, x_test: (n, 28, 28, 1) float32 in [0, 1], reshaped to the model's input shape and
            multiplied by 255 for a model that rescales its own input (a leading Rescaling(1/255)).
        y_train: integer labels, as the contract says (a model compiled for one-hot labels is not trained).

    Returns:
        {"scores": (n_test, 10) float32 outputs (probabilities or logits; absent when not trained),
         "loss": the loss's name, "one_hot_loss": whether it wants one-hot labels, "params": parameter count,
         "kind": the model class name, "output_activation": the last layer's activation name (or None),
         "from_logits": whether the loss takes logits (None when unknown), "optimizer": its class name,
         "learning_rate": its initial learning rate (None when unknown), "momentum": SGD's momentum (else None),
         "input_scale": 1.0 or 255.0}.
    """
    import keras

    from . import keras_facts

    model = build_mnist_cnn()
    if not isinstance(model, keras.Model):
        raise TypeError(f"build_mnist_cnn() should return a keras.Model, got {type(model).__name__}")
    if getattr(model, "optimizer", None) is None or not getattr(model, "compiled", True):
        raise RuntimeError("build_mnist_cnn() returned a model that is not compiled: call model.compile(...) "
                           "with an optimizer, a loss and metrics before returning it")
    shape, scale = tuple(model.input_shape[1:]), _input_scale(model)
    described = {"loss": _loss_name(model.loss), "one_hot_loss": _wants_one_hot(model.loss),
                 "params": int(model.count_params()), "kind": type(model).__name__,
                 "output_activation": keras_facts.activation_name(model.layers[-1]),
                 "from_logits": _from_logits(model.loss), "optimizer": type(model.optimizer).__name__,
                 "learning_rate": keras_facts.learning_rate(model.optimizer)[0],
                 "momentum": _number(getattr(model.optimizer, "momentum", None)), "input_scale": scale}
    if described["one_hot_loss"]:
        return described  # Keras 3 cannot train it on integer labels: the grader says so
    train, test = (np.asarray(x, dtype=np.float32).reshape((len(x), *shape)) * scale for x in (x_train, x_test))
    model.fit(train, np.asarray(y_train), epochs=epochs, batch_size=batch_size, verbose=0)
    _recalibrate_batch_norm(model, train)
    scores = np.asarray(model.predict(test, batch_size=256, verbose=0))
    if scores.shape != (len(test), 10):
        raise ValueError(f"the model's output has shape {scores.shape[1:]} per image; expected (10,), "
                         "one score per digit class")
    return {"scores": scores.astype(np.float32), **described}


def _recalibrate_batch_norm(model, train: np.ndarray, n: int = 1024) -> None:
    """Set BatchNormalization's moving statistics to those of `n` training digits.

    After the grader's short budget (~60 steps) the moving averages (momentum 0.99) are still
    mostly their initial values, and a model with BatchNormalization predicts one class (accuracy
    0.10 measured) although it learned: an artefact of the budget, not a mistake. One pass in
    training mode with momentum 0 (and dropout off) gives the statistics a long training converges
    to. Nothing else changes; a model without BatchNormalization is left alone.
    """
    import keras

    from .keras_facts import flat_layers

    layers = flat_layers(model)
    norms = [layer for layer in layers if isinstance(layer, keras.layers.BatchNormalization)]
    if not norms:
        return
    dropouts = [layer for layer in layers if isinstance(layer, keras.layers.Dropout)]
    saved = [(layer, "momentum", layer.momentum) for layer in norms]
    saved += [(layer, "rate", layer.rate) for layer in dropouts]
    try:
        for layer, name, _ in saved:
            setattr(layer, name, 0.0)
        model(train[:n], training=True)
    finally:
        for layer, name, value in saved:
            setattr(layer, name, value)


def _input_scale(model) -> float:
    # A model that starts with Rescaling(1/255) expects raw pixels (Keras' documented way to put the
    # preprocessing in the model): give it 0..255 as its author did.
    import keras

    for layer in model.layers[:3]:
        if isinstance(layer, keras.layers.Rescaling):
            scale = np.asarray(layer.scale, dtype=np.float64)
            return 255.0 if scale.size == 1 and abs(float(scale) * 255.0 - 1.0) < 1e-3 else 1.0
    return 1.0


def _number(value):
    try:
        return float(np.asarray(value))
    except Exception:  # noqa: BLE001 - a schedule, a custom optimizer or nothing: unknown
        return None


def _loss_name(loss) -> str:
    name = loss if isinstance(loss, str) else getattr(loss, "name", None) or getattr(loss, "__name__", "")
    return str(name).lower()


def _wants_one_hot(loss) -> bool:
    # "categorical_crossentropy", CategoricalCrossentropy(), CategoricalFocalCrossentropy(): one-hot labels.
    name = _loss_name(loss)
    return "categorical" in name and "sparse" not in name


def _from_logits(loss):
    if isinstance(loss, str):
        return False  # a loss given by name takes probabilities
    get_config = getattr(loss, "get_config", None)
    value = get_config().get("from_logits") if callable(get_config) else None
    return value if isinstance(value, bool) else None
