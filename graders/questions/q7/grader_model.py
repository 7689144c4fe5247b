"""The grader's own CNN, on which every student's `grad_cam` runs (it is not q7's answer).

q7 asks students for a CNN (`build_mnist_cnn`) and for Grad-CAM. Grad-CAM is graded on this model,
which the grader owns and the student kit ships: a different architecture from the homework's
answer, with three convolutions whose maps have three different sizes (24, 12 and 10 pixels a side,
none the image's 28), BatchNormalization and Dropout (so a `grad_cam` that calls the model with
`training=True` gets another map), ending in a Dense softmax (so differentiating the probability
instead of the logit shows).

It is trained once per grader version, deterministically (fixed seeds, op determinism, one thread,
in a child process so that the grading process's own TensorFlow state is untouched), on a fixed
split of the 5,000 MNIST digits embedded in the grader (whatever other MNIST source a grading
uses), and cached by a SHA-256 of this file, those digits and the library versions. Its copy with
a re-initialised classifier (every Dense layer) serves the model-randomisation test. The student
kit ships both files beside this module (`SHIPPED`): they are used as they are, never retrained.

Run as a module (`python -m graders.questions.q7.grader_model DIRECTORY`) it trains the model into
DIRECTORY: that is how `model_paths` builds it.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from graders.core.errors import HarnessError
from graders.core.paths import PROJECT_ROOT, cache_dir

LAYERS = ("conv1", "conv2", "conv3")  # its convolutions, input side first
LAST_CONV, OTHER_LAYER = "conv3", "conv2"  # the layers Grad-CAM is asked for: the last convolution, and one more
SPLIT_SEED = 0  # the fixed split of the embedded digits it trains on (4,000) and is measured on (1,000)
TRAINING_SEED = 7
RANDOMISED_SEED = 8  # the fresh classifier of the randomised copy
EPOCHS, BATCH_SIZE = 8, 64
TRAINING_TIMEOUT_S = 900
FILES = {"trained": "grader-cnn", "randomised": "grader-cnn-randomised-head"}
SHIPPED = {kind: Path(__file__).with_name(f"{name}.keras") for kind, name in FILES.items()}  # the kit's copies
_CACHE_FORMAT = 1
_DETERMINISTIC_ENV = {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1", "OMP_NUM_THREADS": "1",
                      "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "TF_DETERMINISTIC_OPS": "1",
                      "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONHASHSEED": "0", "KERAS_BACKEND": "tensorflow"}


def build():
    """The grader's CNN, untrained and compiled (Adam, integer labels).

    Returns:
        A Functional keras.Model from (28, 28, 1) images in [0, 1] to 10 probabilities.
    """
    import keras
    from keras import layers

    inputs = keras.Input((28, 28, 1), name="image")  # the contract's image: one channel, no batch axis
    x = layers.Conv2D(16, 5, activation="relu", name="conv1")(inputs)  # 24 x 24
    x = layers.BatchNormalization(name="norm1")(x)
    x = layers.MaxPooling2D(2, name="pool1")(x)  # 12 x 12
    x = layers.Conv2D(32, 3, padding="same", activation="relu", name="conv2")(x)  # 12 x 12
    x = layers.BatchNormalization(name="norm2")(x)
    x = layers.Conv2D(32, 3, name="conv3")(x)  # 10 x 10, normalised before its ReLU
    x = layers.BatchNormalization(name="norm3")(x)
    x = layers.ReLU(name="relu3")(x)
    x = layers.MaxPooling2D(2, name="pool3")(x)  # 5 x 5
    x = layers.Dropout(0.25, name="dropout1")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(64, activation="relu", name="hidden")(x)
    x = layers.Dropout(0.4, name="dropout2")(x)
    outputs = layers.Dense(10, activation="softmax", name="probabilities")(x)
    model = keras.Model(inputs, outputs, name="grader_cnn")
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def as_model_input(images: np.ndarray) -> np.ndarray:
    """uint8 (n, 28, 28) digits -> float32 (n, 28, 28, 1) in [0, 1], the model's input."""
    return (np.asarray(images, dtype=np.float32) / 255.0)[..., np.newaxis]


def model_paths(directory: Path | None = None) -> dict[str, Path]:
    """The trained model's and its randomised copy's .keras files: the kit's shipped ones, else the
    cache's, trained on a cache miss (about a minute, once per grader version).

    Args:
        directory: the cache folder (default `cache_dir()`); the shipped files win over it.

    Returns:
        {"trained": path, "randomised": path}.

    Raises:
        HarnessError: when the training fails or the cache cannot be written.
    """
    if all(path.is_file() for path in SHIPPED.values()):
        return dict(SHIPPED)
    key = cache_key()
    folder = Path(directory) if directory is not None else cache_dir()
    paths = {kind: folder / f"q7-{name}-{key}.keras" for kind, name in FILES.items()}
    if not all(path.is_file() and path.stat().st_size > 0 for path in paths.values()):
        _train_in_child(folder, key)
    return paths


def trained_model_path(directory: Path | None = None) -> Path:
    """The trained model's .keras file (see `model_paths`): what the student kit ships."""
    return model_paths(directory)["trained"]


def model_key() -> str:
    """What the trusted side's values depend on: the cache key of the trained model (its training is
    deterministic; its .keras file's bytes are not, a zip holds times), or a SHA-256 of the kit's shipped file."""
    paths = model_paths()
    if paths == SHIPPED:
        return hashlib.sha256(SHIPPED["trained"].read_bytes()).hexdigest()[:20]
    return cache_key()


def cache_key() -> str:
    """A SHA-256 (20 hex digits) of what the trained model depends on: this file, its training digits,
    the library versions and the cache format."""
    digest = hashlib.sha256(f"format={_CACHE_FORMAT}".encode())
    for package in ("keras", "tensorflow", "numpy"):
        digest.update(f";{package}={importlib.metadata.version(package)}".encode())
    digest.update(Path(__file__).read_bytes())
    split = _training_split()
    for array in (split.x_train, split.y_train):
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:20]


def load(path: Path):
    """Load one of the models in the trusted process (its compiled state is not needed)."""
    import keras

    return keras.models.load_model(path, compile=False)


def _training_split():
    from graders.core.mnist import load_embedded_mnist

    return load_embedded_mnist(seed=SPLIT_SEED)


def _train_in_child(folder: Path, key: str, *, epochs: int = EPOCHS) -> None:
    """Train in a child Python with one thread and op determinism: the same weights on every run."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HarnessError(f"cannot write the q7 cache in {folder} (set $HW3_CACHE_DIR): {exc}") from exc
    environment = {**os.environ, **_DETERMINISTIC_ENV,
                   "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-m", "graders.questions.q7.grader_model", str(folder), key, str(epochs)]
    try:
        finished = subprocess.run(command, env=environment, cwd=PROJECT_ROOT, capture_output=True, text=True,
                                  timeout=TRAINING_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise HarnessError(f"training q7's grader CNN took over {TRAINING_TIMEOUT_S} s") from None
    if finished.returncode != 0:
        raise HarnessError(f"training q7's grader CNN failed (exit {finished.returncode}): "
                           f"{finished.stderr.strip()[-2000:]}")


def train_and_save(folder: Path, key: str, *, epochs: int = EPOCHS) -> dict:
    """Train the model and write both files into `folder` (atomically). Run in a deterministic child.

    Args:
        epochs: the budget (a test trains shorter to check that the recipe is deterministic).

    Returns:
        {"seconds", "test_accuracy", "params"}: the training's figures.
    """
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(TRAINING_SEED)
    tf.config.experimental.enable_op_determinism()
    split = _training_split()
    started = time.perf_counter()
    model = build()
    model.fit(as_model_input(split.x_train), split.y_train, epochs=epochs, batch_size=BATCH_SIZE, shuffle=True,
              verbose=0)
    seconds = time.perf_counter() - started
    randomised = _with_fresh_classifier(model)
    for kind, content in (("trained", model), ("randomised", randomised)):
        _save_atomically(content, folder / f"q7-{FILES[kind]}-{key}.keras")
    predicted = model.predict(as_model_input(split.x_test), verbose=0, batch_size=256).argmax(axis=1)
    return {"seconds": round(seconds, 1), "test_accuracy": float(np.mean(predicted == split.y_test)),
            "params": int(model.count_params())}


def _with_fresh_classifier(model):
    """A copy of `model` whose Dense layers are re-initialised: the model-randomisation test's model.

    The first steps of the cascading randomisation of Adebayo et al. (2018): the convolutions keep
    what they learned, the weights that decide the class are random. A faithful explanation
    changes; one that ignores those weights (say the mean of the feature maps) stays the same.
    """
    import keras

    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    keras.utils.set_random_seed(RANDOMISED_SEED)
    fresh = build()
    for layer in copy.layers:
        if isinstance(layer, keras.layers.Dense):
            layer.set_weights(fresh.get_layer(layer.name).get_weights())
    return copy


def _save_atomically(model, path: Path) -> None:
    # A temp name in the same folder (Keras insists on the ".keras" suffix) and os.replace: parallel
    # graders see a whole model or none.
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".keras")
    os.close(fd)
    try:
        model.save(temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


if __name__ == "__main__":
    print(train_and_save(Path(sys.argv[1]), sys.argv[2], epochs=int(sys.argv[3]) if len(sys.argv) > 3 else EPOCHS))
