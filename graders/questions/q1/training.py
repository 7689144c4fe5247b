"""q1's training data and scores: labels stay here, the worker only ever predicts.

The budgeted training and the hidden retrain send the worker training digits with their labels
and validation digits without theirs; the probe returns the model's outputs on the validation
digits after each epoch, and the accuracy is computed here. The capped search, which KerasTuner
cannot run without validation labels, gets two disjoint parts of the training split, so no
label of a graded split ever crosses into the worker.

The hidden retrain compares the student's accuracy at BEST_HYPERPARAMETERS with the reference
model's at the same point on the same data. The reference's accuracy is cached by a SHA-256 of
everything it depends on (reference code, point, data, seed, budget, Keras version), as q7's
reference model is: a regrade, or a class whose students report the same point, trains it once.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from graders.core.compare import as_array
from graders.core.errors import WrongType
from graders.core.paths import PROJECT_ROOT, cache_dir
from graders.core.seeds import worker_seed

REFERENCE_FILES = (PROJECT_ROOT / "reference" / "q1_tuner.py", PROJECT_ROOT / "graders" / "inside" / "probes" / "q1.py")
_CACHE_FORMAT = 1


@dataclass(frozen=True)
class Budget:
    """Digits for one training: what the worker gets (`sent`) and the labels kept here."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray  # never sent
    epochs: int
    batch_size: int
    each_epoch: bool = True  # predict the validation digits after every epoch, not only the last

    @property
    def predicted_epochs(self) -> int:
        return self.epochs if self.each_epoch else 1

    def sent(self) -> dict:
        """The probe's keyword arguments: the validation labels are not among them."""
        return {"x_train": self.x_train, "y_train": self.y_train, "x_val": self.x_val, "epochs": self.epochs,
                "batch_size": self.batch_size, "each_epoch": self.each_epoch}

    def text(self) -> str:
        return f"{self.epochs} epoch{'s' * (self.epochs != 1)} on {len(self.y_train):,} digits"


def images(x) -> np.ndarray:
    """uint8 (n, 28, 28) digits -> float32 (n, 28, 28, 1) in [0, 1]."""
    return (np.asarray(x, dtype=np.float32) / 255.0)[..., np.newaxis]


def budget(mnist, seed: int, *, key: str, n_train: int, n_val: int, epochs: int, batch_size: int,
           each_epoch: bool = True) -> Budget:
    """Seeded subsets: training digits from the training split, validation digits from the test split.

    Args:
        key: names the draw ("q1.budget"); a smaller budget with the same key gets the first digits
            of a larger one's (the retrain's are the budgeted training's).
    """
    rng = np.random.default_rng([seed, zlib.crc32(key.encode())])
    train = rng.permutation(len(mnist.y_train))[:int(n_train)]
    val = rng.permutation(len(mnist.y_test))[:int(n_val)]
    return Budget(images(mnist.x_train[train]), np.asarray(mnist.y_train[train], dtype=np.int64),
                  images(mnist.x_test[val]), np.asarray(mnist.y_test[val], dtype=np.int64), int(epochs),
                  int(batch_size), each_epoch)


def search_split(mnist, seed: int, *, n_train: int, n_val: int) -> dict:
    """Two disjoint parts of the training split for the capped search (its labels grade nothing)."""
    rng = np.random.default_rng([seed, zlib.crc32(b"q1.tuner")])
    chosen = rng.choice(len(mnist.y_train), size=min(int(n_train) + int(n_val), len(mnist.y_train)), replace=False)
    train, val = chosen[:int(n_train)], chosen[int(n_train):]
    return {"x_train": images(mnist.x_train[train]), "y_train": np.asarray(mnist.y_train[train], dtype=np.int64),
            "x_val": images(mnist.x_train[val]), "y_val": np.asarray(mnist.y_train[val], dtype=np.int64)}


def accuracies(predictions, labels: np.ndarray, *, epochs: int) -> list[float]:
    """Validation accuracy after each predicted epoch, from the model's outputs (epochs, n, classes).

    Raises:
        WrongType: outputs that are not one row of 10 numbers per digit and epoch.
    """
    outputs = as_array(predictions, what="the model's outputs on the validation digits")
    expected = (epochs, len(labels), 10)
    if outputs.ndim == 4 and outputs.shape[2] == 1:  # (n, 1, 10): a model that keeps an axis
        outputs = outputs[:, :, 0, :]
    if outputs.shape != expected:
        per_digit = outputs.shape[2:] if outputs.ndim > 2 else "?"
        raise WrongType(f"the model's outputs on {len(labels)} digits have shape {outputs.shape[1:]} after each "
                        f"epoch ({per_digit} per digit); expected {expected[1:]}, one probability per class")
    return [float(np.mean(np.argmax(epoch, axis=-1) == labels)) for epoch in outputs]


# -- the reference at a reported point ---------------------------------------------------------

def reference_accuracy(values: dict, data: Budget, *, seed: int, directory: Path | None = None) -> float:
    """The reference model's final validation accuracy at `values` on `data`, trained here (trusted code)
    on a cache miss, seeded as the worker seeds the student's training.

    Raises:
        RuntimeError: when the reference cannot train at `values` (a point outside its space).
    """
    key = _cache_key(values, data, seed)
    path = (directory or cache_dir()) / f"q1-reference-accuracy-{key}.json"
    try:
        return float(json.loads(path.read_text(encoding="utf-8"))["val_accuracy"])
    except (OSError, ValueError, KeyError, TypeError):
        pass  # missing or damaged: a miss
    accuracy = _train_reference(values, data, seed)
    _write_atomically(path, json.dumps({"val_accuracy": accuracy, "values": values}, sort_keys=True))
    return accuracy


def _train_reference(values: dict, data: Budget, seed: int) -> float:
    import keras

    from graders.inside.probes import q1 as procedure  # the same training the worker runs
    from reference import q1_tuner

    keras.utils.set_random_seed(worker_seed(seed))
    result = procedure.budgeted_training(build_model=q1_tuner.build_model, values=values, **data.sent())
    if result.get("error"):
        raise RuntimeError(f"the reference failed at BEST_HYPERPARAMETERS: {result['error']}")
    return accuracies(result["predictions"], data.y_val, epochs=data.predicted_epochs)[-1]


def _cache_key(values: dict, data: Budget, seed: int) -> str:
    digest = hashlib.sha256(f"format={_CACHE_FORMAT};keras={importlib.metadata.version('keras')};seed={seed};"
                            f"epochs={data.epochs};batch={data.batch_size};".encode())
    digest.update(json.dumps(values, sort_keys=True, default=str).encode())
    for source in REFERENCE_FILES:
        digest.update(source.read_bytes())
    for array in (data.x_train, data.y_train, data.x_val, data.y_val):
        contiguous = np.ascontiguousarray(array)
        digest.update(f";{contiguous.dtype}{contiguous.shape}".encode() + contiguous.tobytes())
    return digest.hexdigest()[:20]


def _write_atomically(path: Path, text: str) -> None:
    """Parallel graders read a whole file or none; a cache that cannot be written is only slower."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".json")
    except OSError:
        return
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except OSError:
        Path(temporary).unlink(missing_ok=True)
