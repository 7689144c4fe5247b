"""Turn a submission (a .py, a .ipynb, a folder or a .zip of these) into source text for the worker.

This runs in the trusted grading process, so it never imports, execs or unpickles student code:
it reads files, parses them with `ast`, and hands back plain text that the sandboxed worker execs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import stat
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from graders.core.errors import SubmissionLoadError
from graders.submission.notebook import LoadProblem, SkippedStatement, filter_notebook
from graders.submission.python import defined_names, parse_python

__all__ = ["LoadProblem", "LoaderLimits", "PreparedSubmission", "SkippedStatement", "SourceUnit", "prepare_submission"]

SOURCE_SUFFIXES = (".py", ".ipynb")
_IGNORED_DIRS = frozenset({"__pycache__", "__MACOSX"})  # hidden ones (.ipynb_checkpoints, .git) go by the dot
_IGNORED_FILES = frozenset({"conftest.py", "sitecustomize.py", "usercustomize.py"})
_COPY_CHUNK = 2**20


@dataclass(frozen=True)
class SourceUnit:
    """One piece of code the worker execs, in order.

    `line_map` (notebooks only) maps each line of `code` to the student's (cell, line in that cell);
    empty for a .py file, whose lines are the student's own.
    """

    origin: str
    code: str
    filename: str
    line_map: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class PreparedSubmission:
    """Everything the worker needs from a submission, plus what could not be used and why."""

    label: str
    units: tuple[SourceUnit, ...]
    skipped: tuple[SkippedStatement, ...]
    problems: tuple[LoadProblem, ...]
    conflicts: dict[str, tuple[str, str]]
    content_hash: str

    def to_json(self) -> dict:
        """Plain dict for the results JSON."""
        return {"files": [unit.origin for unit in self.units],
                "skipped": [{**dataclasses.asdict(s), "names": list(s.names), "changes": list(s.changes)}
                            for s in self.skipped],
                "problems": [dataclasses.asdict(p) for p in self.problems],
                "conflicts": {name: list(origins) for name, origins in self.conflicts.items()}}


@dataclass(frozen=True)
class LoaderLimits:
    """Size limits; they apply to the .py and .ipynb files, the only ones ever read or unpacked."""

    max_file_bytes: int = 20 * 2**20
    max_total_bytes: int = 100 * 2**20
    max_files: int = 500
    max_zip_ratio: int = 200


class _InputFile(NamedTuple):
    relpath: str
    data: bytes


def prepare_submission(path: str | os.PathLike, *, limits: LoaderLimits = LoaderLimits()) -> PreparedSubmission:
    """Read a submission and prepare its code for the worker, without running any of it.

    Args:
        path: a .py file, a .ipynb notebook, a folder of them, or a .zip of any of these.
        limits: file count and size limits.
    Returns:
        The units to exec in order, with skipped statements, problems and name conflicts.
    Raises:
        SubmissionLoadError: it cannot be loaded at all (missing, too big, unsafe zip, bad notebook, no code).
    """
    label = os.fspath(path)
    target = Path(label)
    status = _stat(target, label)
    if stat.S_ISDIR(status.st_mode):
        return _prepare(label, *_collect_folder(target, label, limits))
    if not stat.S_ISREG(status.st_mode):
        raise SubmissionLoadError(f"{label} is neither a file nor a folder")
    if target.suffix == ".zip":
        with tempfile.TemporaryDirectory(prefix="hw3grader-") as unpacked:
            root = _unpack_zip(target, Path(unpacked), label, limits)
            return _prepare(label, *_collect_folder(root, label, limits))
    if target.suffix in SOURCE_SUFFIXES:
        _check_file_size(target.name, status.st_size, limits)  # before reading: it may be 2 GB
        return _prepare(label, [_InputFile(target.name, _read_capped(target, target.name, limits))], [])
    raise SubmissionLoadError(f"{label} is not a .py, .ipynb or .zip file, nor a folder of them")


def _prepare(label: str, files: list[_InputFile], problems: list[LoadProblem]) -> PreparedSubmission:
    codes: dict[str, str] = {}
    line_maps: dict[str, tuple[tuple[int, int], ...]] = {}
    skipped: list[SkippedStatement] = []
    definitions: list[tuple[str, tuple[str, ...]]] = []
    for file in files:
        try:
            text = file.data.decode("utf-8-sig")  # Windows editors like to add a BOM
        except UnicodeDecodeError as err:
            problems.append(LoadProblem(file.relpath, f"not UTF-8 ({err.reason} at byte {err.start}); re-save as UTF-8"))
            continue
        if file.relpath.endswith(".ipynb"):
            notebook = filter_notebook(text, origin=file.relpath)
            code, names = notebook.code, notebook.definitions
            line_maps[file.relpath] = notebook.line_map
            skipped.extend(notebook.skipped)
            problems.extend(notebook.problems)
        else:
            try:
                code, names = text, defined_names(parse_python(text).body)
            except SubmissionLoadError as err:
                problems.append(LoadProblem(file.relpath, str(err)))
                continue
        codes[file.relpath] = code
        definitions.append((file.relpath, names))
    units = tuple(SourceUnit(origin, codes[origin], filename, line_maps.get(origin, ()))
                  for origin, filename in zip(codes, _unit_filenames(list(codes))))
    conflicts = _find_conflicts(definitions)
    problems += [LoadProblem(b, f"name {name} is defined in both {a} and {b}") for name, (a, b) in conflicts.items()]
    return PreparedSubmission(label, units, tuple(skipped), tuple(problems), conflicts, _content_hash(files))


def _find_conflicts(definitions: list[tuple[str, tuple[str, ...]]]) -> dict[str, tuple[str, str]]:
    """Names defined in two units: in one shared namespace the later silently replaces the earlier."""
    first_origin: dict[str, str] = {}
    conflicts: dict[str, tuple[str, str]] = {}
    for origin, names in definitions:
        for name in names:
            first = first_origin.setdefault(name, origin)
            if first != origin:
                conflicts.setdefault(name, (first, origin))
    return conflicts


def _content_hash(files: list[_InputFile]) -> str:
    digest = hashlib.sha256()
    for file in sorted(files, key=lambda f: f.relpath):
        for part in (file.relpath.encode("utf-8", "surrogateescape"), file.data):  # length-prefixed: unambiguous
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
    return digest.hexdigest()


def _unit_filenames(relpaths: list[str]) -> list[str]:
    """Safe, distinct file names for the worker; a .py already named safely keeps it, so imports of it work."""
    wanted = [_safe_filename(relpath) for relpath in relpaths]
    taken = {name for relpath, name in zip(relpaths, wanted) if name == relpath}
    filenames = []
    for relpath, name in zip(relpaths, wanted):
        stem, counter = name[: -len(".py")], 1
        while name != relpath and name in taken:
            counter += 1
            name = f"{stem}_{counter}.py"
        taken.add(name)
        filenames.append(name)
    return filenames


def _safe_filename(relpath: str) -> str:
    parts = [re.sub(r"[^\w.-]", "_", part) for part in relpath.split("/")]
    if parts[-1].endswith(".ipynb"):
        parts[-1] = parts[-1][: -len(".ipynb")] + "_ipynb.py"
    return "/".join(parts)


def _collect_folder(root: Path, label: str, limits: LoaderLimits) -> tuple[list[_InputFile], list[LoadProblem]]:
    """Read the folder's source files, sorted by relative path, after checking the limits."""
    sources, problems = _find_sources(root, label)
    if not sources:
        raise SubmissionLoadError(f"no .py or .ipynb file found in {label}")
    _check_file_count(label, len(sources), limits)
    sizes = {relpath: _stat(path, relpath).st_size for relpath, path in sources}
    for relpath, size in sizes.items():
        _check_file_size(relpath, size, limits)
    _check_total_size(label, sum(sizes.values()), limits)
    return [_InputFile(relpath, _read_capped(path, relpath, limits)) for relpath, path in sources], problems


def _find_sources(root: Path, label: str) -> tuple[list[tuple[str, Path]], list[LoadProblem]]:
    """(relative path, path) of every .py/.ipynb file under root, and the files refused on the way."""
    sources: list[tuple[str, Path]] = []
    problems: list[LoadProblem] = []
    pending = [root]  # a stack, not recursion: a zip can nest folders thousands deep
    while pending:
        for entry in _scan(pending.pop(), label):
            relpath = Path(entry.path).relative_to(root).as_posix()
            if entry.name.startswith(".") or entry.name in _IGNORED_DIRS:
                continue
            if entry.name in _IGNORED_FILES:
                problems.append(LoadProblem(relpath, f"ignored: {entry.name} is never loaded from a submission"))
            elif entry.is_symlink() and (entry.name.endswith(SOURCE_SUFFIXES) or os.path.isdir(entry.path)):
                # os.path.isdir above: unlike DirEntry.is_dir it does not raise on a symlink loop
                problem = _symlink_problem(Path(entry.path), relpath, root)
                if problem is None:
                    sources.append((relpath, Path(entry.path)))
                else:
                    problems.append(problem)
            elif entry.is_dir(follow_symlinks=False):
                pending.append(Path(entry.path))
            elif entry.name.endswith(SOURCE_SUFFIXES) and entry.is_file(follow_symlinks=False):
                sources.append((relpath, Path(entry.path)))
    return sorted(sources), problems


def _symlink_problem(link: Path, relpath: str, root: Path) -> LoadProblem | None:
    """Why a symlink is refused; None for a link to a source file inside the submission."""
    resolved = Path(os.path.realpath(link))
    if not resolved.is_relative_to(os.path.realpath(root)):
        return LoadProblem(relpath, f"ignored symlink {relpath}: it points outside the submission")
    if resolved.is_dir():
        return LoadProblem(relpath, f"ignored symlink {relpath}: links to folders are not followed")
    if not resolved.is_file():
        return LoadProblem(relpath, f"ignored symlink {relpath}: it does not point to a file")
    return None


def _scan(directory: Path, label: str) -> list[os.DirEntry]:
    try:
        return list(os.scandir(directory))  # exhausting the iterator closes it
    except OSError as err:
        raise SubmissionLoadError(f"cannot list folder {directory} in {label}: {err.strerror or err}") from None


def _stat(path: Path, label: str) -> os.stat_result:
    try:
        return path.stat()
    except (OSError, ValueError) as err:  # ValueError: a NUL in the path
        missing = isinstance(err, FileNotFoundError)
        raise SubmissionLoadError(f"{label} does not exist" if missing else f"cannot read {label}: {err}") from None


def _read_capped(path: Path, relpath: str, limits: LoaderLimits) -> bytes:
    """The file's bytes; reads at most one byte past the limit in case it grew since stat."""
    try:
        with open(path, "rb") as file:
            data = file.read(limits.max_file_bytes + 1)
    except OSError as err:
        raise SubmissionLoadError(f"cannot read {relpath}: {err.strerror or err}") from None
    _check_file_size(relpath, len(data), limits)
    return data


def _check_file_size(relpath: str, size: int, limits: LoaderLimits) -> None:
    if size > limits.max_file_bytes:
        limit = _mib(limits.max_file_bytes)
        raise SubmissionLoadError(f"{relpath} is {_mib(size)} ({size} bytes); the limit for one file is {limit}")


def _check_file_count(label: str, count: int, limits: LoaderLimits) -> None:
    if count > limits.max_files:
        raise SubmissionLoadError(f"{label} has {count} .py/.ipynb files; the limit is {limits.max_files}")


def _check_total_size(label: str, size: int, limits: LoaderLimits) -> None:
    if size > limits.max_total_bytes:
        limit = _mib(limits.max_total_bytes)
        raise SubmissionLoadError(f"the .py/.ipynb files in {label} add up to more than {limit}, the limit")


def _mib(size: int) -> str:
    return f"{size / 2**20:.1f} MiB"


def _unpack_zip(zip_path: Path, dest: Path, label: str, limits: LoaderLimits) -> Path:
    """Unpack the zip's source files into dest; return the folder to load (its single top folder, if any)."""
    try:
        archive = zipfile.ZipFile(zip_path)
    except Exception as err:  # noqa: BLE001 - a corrupt zip can raise almost any type
        raise SubmissionLoadError(f"{label} is not a valid zip file ({type(err).__name__}: {err})"[:300]) from None
    with archive:
        unpacked = 0
        for info, parts in _source_members(archive.infolist(), label, limits):
            unpacked += _extract_member(archive, info, dest.joinpath(*parts), label, limits, unpacked)
    top = [p for p in dest.iterdir() if not p.name.startswith(".") and p.name not in _IGNORED_DIRS]
    return top[0] if len(top) == 1 and top[0].is_dir() else dest


def _source_members(infos: list[zipfile.ZipInfo], label: str,
                    limits: LoaderLimits) -> list[tuple[zipfile.ZipInfo, tuple[str, ...]]]:
    """(member, path parts) to unpack, after refusing unsafe names, symlinks, duplicates and declared bombs."""
    sources: dict[tuple[str, ...], zipfile.ZipInfo] = {}
    for info in infos:
        parts = _member_parts(info.filename, label)
        if any(p.startswith(".") or p in _IGNORED_DIRS for p in parts):
            continue
        if stat.S_ISLNK(info.external_attr >> 16):
            raise SubmissionLoadError(f"{label} contains a symbolic link ({info.filename}); zip the files themselves")
        if info.is_dir() or not parts or not parts[-1].endswith(SOURCE_SUFFIXES):
            continue
        if parts in sources:
            raise SubmissionLoadError(f"{label} contains {info.filename} twice")
        _check_file_size(info.filename, info.file_size, limits)
        _check_ratio(info, info.file_size, label, limits)
        sources[parts] = info
    _check_file_count(label, len(sources), limits)
    _check_total_size(label, sum(info.file_size for info in sources.values()), limits)
    return [(info, parts) for parts, info in sources.items()]


def _member_parts(name: str, label: str) -> tuple[str, ...]:
    """The member's path components; refuses names that would unpack outside the destination."""
    normalized = name.replace("\\", "/")  # some Windows zip tools write backslashes as separators
    parts = tuple(p for p in normalized.split("/") if p not in ("", "."))
    if normalized.startswith("/") or re.match(r"[A-Za-z]:", normalized) or ".." in parts:
        raise SubmissionLoadError(f"{label} contains an unsafe path: {name!r}; zip the folder itself, not a path to it")
    return parts


def _check_ratio(info: zipfile.ZipInfo, size: int, label: str, limits: LoaderLimits) -> None:
    if size > max(info.compress_size, 1) * limits.max_zip_ratio:
        ratio = limits.max_zip_ratio
        raise SubmissionLoadError(f"{info.filename} in {label} unpacks to more than {ratio} times its compressed size")


def _extract_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, label: str,
                    limits: LoaderLimits, unpacked_before: int) -> int:
    """Copy one member to target, counting the real bytes (declared sizes can lie); return the count."""
    written = 0
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "xb") as out:
            for chunk in _member_chunks(archive, info, label):
                written += len(chunk)
                _check_file_size(info.filename, written, limits)
                _check_ratio(info, written, label, limits)
                _check_total_size(label, unpacked_before + written, limits)
                out.write(chunk)
    except OSError as err:
        raise SubmissionLoadError(f"cannot unpack {info.filename} from {label}: {err.strerror or err}") from None
    return written


def _member_chunks(archive: zipfile.ZipFile, info: zipfile.ZipInfo, label: str):
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(_COPY_CHUNK):
                yield chunk
    except Exception as err:  # noqa: BLE001 - zipfile, zlib, bz2 and lzma each raise their own types
        detail = f"{type(err).__name__}: {err}"[:200]
        raise SubmissionLoadError(f"cannot unpack {info.filename} from {label} ({detail})") from None
