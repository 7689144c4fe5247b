"""q7 probes, run inside the sandbox worker: Grad-CAM on the grader's model, and training the student's CNN.

Imports: stdlib, numpy and keras only (the sandbox hides `graders` and `reference`).
Everything returned is plain data that the grader type-checks again.
"""

from __future__ import annotations

import numpy as np


def ready() -> bool:
    """Nothing: a first request, so that the worker starts (and imports TensorFlow) early."""
    return True


def grad_cam_maps(*, grad_cam, model_path: str, images, layer_name: str, class_indices) -> list:
    """Call the student's `grad_cam` once per image, each time on a freshly loaded model.

    A fresh model per call: students often change the model they receive (say
    `model.layers[-1].activation = None` to get logits), which must not leak into the next call.

    Args:
        model_path: the shared .keras file (a Functional model).
        images: (n, 28, 28, 1) float32 in [0, 1]; each call gets one (28, 28, 1) image.
        layer_name: passed through to `grad_cam`.
        class_indices: n entries, each an int or None (None: the predicted class).

    Returns:
        The n values `grad_cam` returned, as it returned them.
    """
    import keras

    maps = []
    for image, class_index in zip(np.asarray(images, dtype=np.float32), class_indices):
        model = keras.models.load_model(model_path, compile=False)
        maps.append(grad_cam(model, image.copy(), layer_name, class_index))
    return maps


def train_cnn(*, build_mnist_cnn, x_train, y_train, x_test, y_test, epochs: int, batch_size: int) -> dict:
    """Build the student's CNN with `build_mnist_cnn()`, train it with the grader's budget, test it.

    Args:
        x_train, x_test: (n, 28, 28, 1) float32 in [0, 1], reshaped to the model's input shape.
        y_train, y_test: integer labels; one-hot encoded for a (non-sparse) categorical loss.

    Returns:
        {"accuracy": test accuracy of argmax predictions, "params": parameter count,
         "kind": the model class name, "output_activation": the last layer's activation name
         (or None), "from_logits": whether the loss takes logits (None when unknown)}.
    """
    import keras

    model = build_mnist_cnn()
    if not isinstance(model, keras.Model):
        raise TypeError(f"build_mnist_cnn() should return a keras.Model, got {type(model).__name__}")
    if getattr(model, "optimizer", None) is None or not getattr(model, "compiled", True):
        raise RuntimeError("build_mnist_cnn() returned a model that is not compiled: call model.compile(...) "
                           "with an optimizer, a loss and metrics before returning it")
    shape = tuple(model.input_shape[1:])
    train, test = (np.asarray(x, dtype=np.float32).reshape((len(x), *shape)) for x in (x_train, x_test))
    model.fit(train, _labels_for(model, np.asarray(y_train)), epochs=epochs, batch_size=batch_size, verbose=0)
    probabilities = np.asarray(model.predict(test, batch_size=256, verbose=0))
    if probabilities.shape != (len(test), 10):
        raise ValueError(f"the model's output has shape {probabilities.shape[1:]} per image; expected (10,), "
                         "one score per digit class")
    accuracy = float(np.mean(probabilities.argmax(axis=1) == np.asarray(y_test)))
    return {"accuracy": accuracy, "params": int(model.count_params()), "kind": type(model).__name__,
            "output_activation": _activation_name(model.layers[-1]), "from_logits": _from_logits(model.loss)}


def _loss_name(loss) -> str:
    name = loss if isinstance(loss, str) else getattr(loss, "name", None) or getattr(loss, "__name__", "")
    return str(name).lower()


def _labels_for(model, labels: np.ndarray) -> np.ndarray:
    # A model compiled with plain "categorical_crossentropy" wants one-hot labels.
    name = _loss_name(model.loss)
    if "categorical" in name and "sparse" not in name:
        return np.eye(10, dtype=np.float32)[labels]
    return labels


def _activation_name(layer):
    activation = getattr(layer, "activation", None)
    return getattr(activation, "__name__", None) if activation is not None else None


def _from_logits(loss):
    if isinstance(loss, str):
        return False  # a loss given by name takes probabilities
    get_config = getattr(loss, "get_config", None)
    value = get_config().get("from_logits") if callable(get_config) else None
    return value if isinstance(value, bool) else None
