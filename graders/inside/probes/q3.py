"""q3 probes, run inside the sandbox worker: build, train and evaluate the student's regressor.

The grader passes the data and its own budget (epochs, batch size); these functions return
plain arrays and numbers, which the grader checks like any untrusted value. TensorFlow is
imported only when a model is built, so a submission without `build_regressor` costs nothing.
"""

from __future__ import annotations

import numpy as np


def model_output_shape(*, build_regressor, X):
    """Build the student's model for the shape of `X` and predict `X`.

    Returns:
        The prediction's shape, as a list of ints.
    """
    model = _build(build_regressor, np.shape(X)[1:])
    return list(np.shape(model.predict(np.asarray(X), verbose=0)))


def fit_regressor(*, build_regressor, X_train, y_train, X_test, epochs, batch_size):
    """Train a fresh student model on (X_train, y_train) with the grader's budget; predict X_test.

    Returns:
        {"predictions": float64 array, one value per test sample when the model gives one
        (flattened), "output_shape": the model's output shape per sample, as a list,
        "optimizer": its class name, "learning_rate": a number or None} (the last two name likely
        causes in a failure's message; the targets of X_test never come here).
    """
    model = _build(build_regressor, np.shape(X_train)[1:])
    model.fit(np.asarray(X_train), np.asarray(y_train), epochs=int(epochs), batch_size=int(batch_size),
              shuffle=True, verbose=0)
    predictions = np.asarray(model.predict(np.asarray(X_test), batch_size=1024, verbose=0), dtype=np.float64)
    output_shape = list(predictions.shape[1:])
    if predictions.size == len(X_test):
        predictions = predictions.reshape(len(X_test))
    return {"predictions": predictions, "output_shape": output_shape, **_optimizer(model)}


def _optimizer(model) -> dict:
    from .keras_facts import learning_rate

    optimizer = getattr(model, "optimizer", None)
    return {"optimizer": type(optimizer).__name__, "learning_rate": learning_rate(optimizer)[0]}


def _build(build, input_shape):
    import keras

    model = build(tuple(int(size) for size in input_shape))
    if not isinstance(model, keras.Model):
        raise TypeError(f"build_regressor(input_shape) returned a {type(model).__name__}, not a keras.Model")
    if not getattr(model, "compiled", False):
        raise TypeError("build_regressor(input_shape) must return a compiled model: call "
                        "model.compile(optimizer=..., loss=...) before returning it")
    return model
