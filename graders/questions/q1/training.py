"""q1's training data and scores: labels stay here, the worker only ever predicts.

The budgeted training and the hidden retrain send the worker training digits with their labels
and validation digits without theirs; the probe returns the model's outputs on the validation
digits after each epoch, and the accuracy is computed here. The capped search, which KerasTuner
cannot run without validation labels, gets two disjoint parts of the training split, so no
label of a graded split ever crosses into the worker.

The hidden retrain trains the student's model on digits of the grading (the first of the budget's:
its training digits come from the training split, its validation digits from the test split, so no
label of a graded digit goes in) and compares it with the reference model trained on digits that do
not depend on the grading's seed (`canonical_budget`: every digit of the data set, ordered by content,
drawn from the rubric's `retrain_seed`), so that the reference's accuracy at a point depends only on
the point and the grader version (graders/questions/q1/trusted.py caches it). Both start from the same
initial weights (`retrain_seed`).

A draw never fails for lack of digits: a split smaller than asked gives all it has, and `Budget.short`
says how many were asked for (a TA's own, smaller MNIST; the grader's default data always has enough).
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass

import numpy as np

from graders.core.compare import as_array
from graders.core.errors import WrongType


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
    asked: tuple[int, int] = (0, 0)  # the training and validation digits asked for (more than the split had?)

    @property
    def predicted_epochs(self) -> int:
        return self.epochs if self.each_epoch else 1

    def sent(self) -> dict:
        """The probe's keyword arguments: the validation labels are not among them."""
        return {"x_train": self.x_train, "y_train": self.y_train, "x_val": self.x_val, "epochs": self.epochs,
                "batch_size": self.batch_size, "each_epoch": self.each_epoch}

    def text(self) -> str:
        return f"{self.epochs} epoch{'s' * (self.epochs != 1)} on {len(self.y_train):,} digits"

    @property
    def short(self) -> str:
        """"" when the split had every digit asked for, else what it gave instead (for the details)."""
        got = (len(self.y_train), len(self.y_val))
        if all(have >= want for have, want in zip(got, self.asked)):
            return ""
        return (f"the data has fewer digits than the budget asks for: {got[0]:,} training digits of "
                f"{self.asked[0]:,} and {got[1]:,} validation digits of {self.asked[1]:,}")


def images(x) -> np.ndarray:
    """uint8 (n, 28, 28) digits -> float32 (n, 28, 28, 1) in [0, 1]."""
    scaled = np.asarray(x, dtype=np.float32) / np.float32(255)
    return np.expand_dims(scaled, axis=-1)


def budget(mnist, seed: int, *, key: str, n_train: int, n_val: int, epochs: int, batch_size: int,
           each_epoch: bool = True) -> Budget:
    """Seeded subsets: training digits from the training split, validation digits from the test split.

    Args:
        key: names the draw ("q1.budget"); a smaller budget with the same key and seed gets the first
            digits of a larger one's.
    """
    rng = np.random.default_rng([seed, zlib.crc32(key.encode())])
    train = rng.permutation(len(mnist.y_train))[:int(n_train)]
    val = rng.permutation(len(mnist.y_test))[:int(n_val)]
    return Budget(images(mnist.x_train[train]), np.asarray(mnist.y_train[train], dtype=np.int64),
                  images(mnist.x_test[val]), np.asarray(mnist.y_test[val], dtype=np.int64), int(epochs),
                  int(batch_size), each_epoch, asked=(int(n_train), int(n_val)))


def canonical_budget(mnist, *, seed: int, key: str, n_train: int, n_val: int, epochs: int, batch_size: int) -> Budget:
    """Digits that do not depend on how the grading's seed split the data set: all of its digits (both
    splits), ordered by their content, then `n_train` + `n_val` of them drawn from `seed` (for trusted
    work only: these digits' labels include graded ones, so they never go to the worker).
    """
    x = np.concatenate([mnist.x_train, mnist.x_test])
    y = np.concatenate([mnist.y_train, mnist.y_test]).astype(np.int64)
    keys = [hashlib.blake2b(image.tobytes(), digest_size=8).digest() + bytes([label]) for image, label in zip(x, y)]
    order = np.array(sorted(range(len(y)), key=keys.__getitem__), dtype=np.int64)
    rng = np.random.default_rng([seed, zlib.crc32(key.encode())])
    chosen = order[rng.permutation(len(order))]
    n_fit = min(int(n_train), max(1, len(chosen) - int(n_val)))
    train, val = chosen[:n_fit], chosen[n_fit:n_fit + int(n_val)]
    return Budget(images(x[train]), y[train], images(x[val]), y[val], int(epochs), int(batch_size), each_epoch=False,
                  asked=(int(n_train), int(n_val)))


def search_split(mnist, seed: int, *, n_train: int, n_val: int) -> dict:
    """Two disjoint parts of the training split for the capped search (its labels grade nothing).

    A split with fewer digits than asked for is divided in the same proportion, so that neither part
    is ever empty (KerasTuner cannot score a trial without validation digits).
    """
    rng = np.random.default_rng([seed, zlib.crc32(b"q1.tuner")])
    total = min(int(n_train) + int(n_val), len(mnist.y_train))
    chosen = rng.choice(len(mnist.y_train), size=total, replace=False)
    n_fit = min(int(n_train), max(1, total - max(1, round(total * int(n_val) / (int(n_train) + int(n_val))))))
    train, val = chosen[:n_fit], chosen[n_fit:]
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
