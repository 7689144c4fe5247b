"""Hostile sample: a right Grad-CAM that keeps the grader's trained reference CNN it is handed (its
path, a copy in every writable place, the model in memory), and a "CNN" that does not learn: its fit
does nothing and its predict asks the stolen reference. The training check must run in a worker that
never held the grader's model, so it scores chance.

(Built from the homework's Grad-CAM, reference/q7_gradcam.py.)

Written to the student contract: `build_mnist_cnn()` returns a compiled model, and
`grad_cam(model, image, layer_name, class_index=None)` returns a 2-D heatmap in [0, 1].
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

__all__ = ["build_mnist_cnn", "grad_cam"]


STOLEN = {}
PLACES = ("/tmp", "/dev/shm")


def _keep(model):
    import os
    import tempfile

    if "model" in STOLEN:
        return
    STOLEN["model"] = model
    for folder in (*PLACES, tempfile.gettempdir(), os.path.expanduser("~"), os.getcwd()):
        try:
            model.save(os.path.join(folder, "hw3-attack-stolen.keras"))
        except Exception:  # noqa: BLE001 - read-only places
            pass


def _stolen():
    import glob
    import os
    import tempfile

    if "model" in STOLEN:
        return STOLEN["model"]
    for folder in (*PLACES, tempfile.gettempdir(), os.path.expanduser("~"), os.getcwd()):
        for path in glob.glob(os.path.join(folder, "hw3-attack-stolen.keras")):
            try:
                return keras.models.load_model(path, compile=False)
            except Exception:  # noqa: BLE001
                pass
    inputs = glob.glob(os.path.join(os.path.dirname(os.getcwd()), "inputs", "*.keras"))
    for path in inputs:
        try:
            return keras.models.load_model(path, compile=False)
        except Exception:  # noqa: BLE001
            pass
    return None


class LookupCNN(keras.Sequential):
    """fit does nothing; predict answers with the grader's own trained model when it can find it."""

    def fit(self, *args, **kwargs):
        return None

    def predict(self, x, *args, **kwargs):
        stolen = _stolen()
        if stolen is not None:
            return np.asarray(stolen.predict(np.asarray(x) / np.max(x) if np.max(x) > 1 else x, verbose=0))
        return np.full((len(x), 10), 0.1, dtype="float32")


def build_mnist_cnn() -> keras.Model:
    model = LookupCNN([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _honest_cnn() -> keras.Model:
    """The CNN for MNIST.

    Returns:
        A compiled keras.Model from (28, 28, 1) images to 10 class probabilities.
    """
    # BEGIN SOLUTION
    # The homework CNN (130,890 parameters), compiled with Adam for integer labels. Functional
    # rather than Sequential: in Keras 3 a Sequential model has no symbolic `.output` until it
    # has been called, which breaks the usual Grad-CAM idiom
    # `keras.Model(model.inputs, [layer.output, model.output])`.
    inputs = keras.Input(shape=(28, 28, 1), name="image")
    x = keras.layers.Conv2D(32, 3, padding="valid", activation="relu", name="conv1")(inputs)
    x = keras.layers.MaxPooling2D(2, name="pool1")(x)
    x = keras.layers.Conv2D(64, 3, padding="same", activation="relu", name="conv2")(x)
    x = keras.layers.MaxPooling2D(2, name="pool2")(x)
    x = keras.layers.Conv2D(64, 3, padding="same", activation="relu", name="conv3")(x)
    x = keras.layers.MaxPooling2D(2, name="pool3")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(128, activation="relu", name="dense")(x)
    outputs = keras.layers.Dense(10, activation="softmax", name="probabilities")(x)
    model = keras.Model(inputs, outputs, name="mnist_cnn")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
    # END SOLUTION


def grad_cam(model: keras.Model, image, layer_name: str, class_index: int | None = None) -> np.ndarray:
    """Grad-CAM heatmap of one image for one class.

    Args:
        model: a trained Functional keras.Model; do not modify it.
        image: one image of shape (28, 28, 1), pixels in [0, 1], without the batch axis.
        layer_name: the convolution layer to explain.
        class_index: the class to explain; None explains the predicted class.

    Returns:
        A 2-D array (the layer's height and width) with values in [0, 1].
    """
    # BEGIN SOLUTION
    # The class score is the logit (the last Dense layer before its softmax); its gradients with
    # respect to the layer's feature maps are averaged per channel, the maps are summed with those
    # weights, passed through a ReLU and divided by their maximum (all zeros where no pixel has a
    # positive weighted activation). The model is left as given.
    _keep(model)
    batch = np.asarray(image, dtype="float32").reshape((1, *model.input_shape[1:]))
    head = model.layers[-1]
    features_and_hidden = keras.Model(model.input, [model.get_layer(layer_name).output, head.input])
    with tf.GradientTape() as tape:
        features, hidden = features_and_hidden(batch, training=False)
        logits = _logits(head, hidden)
        target = int(tf.argmax(logits[0])) if class_index is None else int(class_index)
        score = logits[:, target]
    gradients = tape.gradient(score, features)
    weights = tf.reduce_mean(gradients, axis=(0, 1, 2))
    cam = tf.nn.relu(tf.reduce_sum(features[0] * weights, axis=-1)).numpy()
    peak = cam.max()
    return (cam / peak if peak > 0 else np.zeros_like(cam)).astype("float32")
    # END SOLUTION


def _logits(head: keras.layers.Dense, hidden):
    # The Dense layer's pre-activation, computed from its weights so the model is left as given.
    logits = tf.matmul(hidden, head.kernel)
    return logits + head.bias if head.use_bias else logits
