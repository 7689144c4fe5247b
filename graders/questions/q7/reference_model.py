"""The models q7 grades Grad-CAM on, made once and cached as .keras files for the sandbox to load.

The reference CNN is trained in the trusted process, with the reference's `build_mnist_cnn`;
its copy with a re-initialised classifier serves the model-randomisation test. The cache key
is a SHA-256 of everything a model depends on (the reference code, the training data, the
seed, the budget, the Keras version), so a class of submissions trains it once and a change
to any of these trains it again. Files are written atomically: parallel graders see a whole
model or none.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import tempfile
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from graders.core.errors import HarnessError
from graders.core.paths import REFERENCE_DIR, cache_dir
from graders.core.seeds import library_seed

REFERENCE_CODE = REFERENCE_DIR / "q7_gradcam.py"
KERAS_ARRAY_COPY_WARNING = r"__array__ implementation doesn't accept a copy keyword"
# Bump when what is trained or how it is saved changes in a way the key does not see.
_CACHE_FORMAT = 1


@dataclass(frozen=True)
class Budget:
    """How the reference is trained: epochs and batch size over the whole training split."""

    epochs: int
    batch_size: int


def as_model_input(images: np.ndarray) -> np.ndarray:
    """uint8 (n, 28, 28) digits -> float32 (n, 28, 28, 1) in [0, 1], the homework CNN's input."""
    return (np.asarray(images, dtype=np.float32) / 255.0)[..., np.newaxis]


def trained_model_path(x_train: np.ndarray, y_train: np.ndarray, *, seed: int, budget: Budget,
                       directory: Path | None = None) -> Path:
    """The .keras file of the reference CNN trained on (x_train, y_train); trained on a cache miss.

    Args:
        x_train: uint8 (n, 28, 28) digits; y_train: (n,) labels 0..9.
        seed: seeds the initial weights and the batch order.
        budget: epochs and batch size.
        directory: the cache folder (default `cache_dir()`).

    Returns:
        The path of the cached model file.

    Raises:
        HarnessError: when the cache folder cannot be written.
    """
    key = cache_key("trained", seed, budget, x_train, y_train)
    path = (directory or cache_dir()) / f"q7-reference-cnn-{key}.keras"
    if not _loadable(path):
        _write_atomically(path, _train(x_train, y_train, seed=seed, budget=budget), _save_model)
    return path


def randomised_head_path(trained: Path, *, seed: int, directory: Path | None = None) -> Path:
    """The trained CNN with its classifier (every Dense layer) re-initialised, as a .keras file.

    The first steps of the cascading model-randomisation test (Adebayo et al., 2018): the
    convolutions keep what they learned, the weights that decide the class are random. A
    faithful explanation changes; one that ignores those weights (say the mean of the feature
    maps) stays exactly the same.

    Args:
        trained: the file `trained_model_path` returned (its name carries its cache key).
        seed: seeds the fresh weights.
    """
    key = cache_key("randomised-head", trained.stem, seed)
    path = (directory or cache_dir()) / f"q7-randomised-head-{key}.keras"
    if not _loadable(path):
        import keras

        model, fresh = load(trained), _build(seed)
        for layer in model.layers:
            if isinstance(layer, keras.layers.Dense):
                layer.set_weights(fresh.get_layer(layer.name).get_weights())
        _write_atomically(path, model, _save_model)
    return path


def cached_arrays(name: str, key: str, compute: Callable[[], dict[str, np.ndarray]], *,
                  directory: Path | None = None) -> dict[str, np.ndarray]:
    """Arrays that `compute()` makes once per `key`, kept as an .npz in the cache folder.

    The grader keeps the reference's heatmaps this way, so a warm grading needs no TensorFlow
    in the trusted process. Written atomically; a damaged file is recomputed.
    """
    path = (directory or cache_dir()) / f"q7-{name}-{key}.npz"
    try:
        with np.load(path, allow_pickle=False) as stored:
            return {entry: stored[entry] for entry in stored.files}
    except (OSError, ValueError, zipfile.BadZipFile):
        pass  # missing or damaged: a miss
    arrays = compute()
    _write_atomically(path, arrays, lambda target, data: np.savez(target, **data))
    return arrays


def cache_key(*parts, files: tuple[Path, ...] = ()) -> str:
    """A SHA-256 (20 hex digits) of `parts` (strings, numbers, arrays), the reference code,
    `files`, the Keras version and the cache format: what a cached artefact depends on."""
    digest = hashlib.sha256(f"format={_CACHE_FORMAT};keras={importlib.metadata.version('keras')}".encode())
    for source in (REFERENCE_CODE, *files):
        digest.update(Path(source).read_bytes())
    for part in parts:
        if isinstance(part, np.ndarray):
            contiguous = np.ascontiguousarray(part)
            digest.update(f";{contiguous.dtype}{contiguous.shape}".encode())
            digest.update(contiguous.tobytes())
        else:
            digest.update(f";{part!r}".encode())
    return digest.hexdigest()[:20]


def load(path: Path):
    """Load a cached model in the trusted process (compiled state is not needed)."""
    import keras

    return keras.models.load_model(path, compile=False)


def _build(seed: int):
    import keras

    from reference.q7_gradcam import build_mnist_cnn

    keras.utils.set_random_seed(library_seed(seed))  # a hidden run's 64-bit seed is too big for NumPy
    return build_mnist_cnn()


def _train(x_train: np.ndarray, y_train: np.ndarray, *, seed: int, budget: Budget):
    model = _build(seed)
    model.fit(as_model_input(x_train), np.asarray(y_train), epochs=budget.epochs, batch_size=budget.batch_size,
              shuffle=True, verbose=0)
    return model


def _loadable(path: Path) -> bool:
    # A file that exists is complete (writes are atomic); anything else is a miss.
    return path.is_file() and path.stat().st_size > 0


def _save_model(target: str, model) -> None:
    with warnings.catch_warnings():
        # Keras' TensorFlow backend converts each weight with np.array(tensor), which NumPy 2 warns about once
        # per weight: Keras' own business, and in the grading process it would bury the score table.
        warnings.filterwarnings("ignore", message=KERAS_ARRAY_COPY_WARNING, category=DeprecationWarning,
                                module="keras.src.backend.tensorflow.core")
        model.save(target)


def _write_atomically(path: Path, content, save: Callable[[str, object], None]) -> None:
    # A temp name in the same folder (with the same suffix: Keras insists on ".keras") and
    # os.replace keep parallel graders from ever reading half a file.
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=path.suffix)
    except OSError as exc:
        raise HarnessError(f"cannot write the q7 cache in {path.parent} (set $HW3_CACHE_DIR): {exc}") from exc
    os.close(fd)
    try:
        save(temporary, content)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
