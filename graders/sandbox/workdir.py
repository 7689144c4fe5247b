"""The worker's folder on the host: made fresh for every start, written without following a link.

The grading process writes into a worker's folder only while no worker has run in it (a new
`mkdtemp` per start, private until it is complete), and only through file descriptors opened
with O_NOFOLLOW and files created with O_EXCL, so a link planted by a previous worker can never
redirect a write. What a worker leaves behind is deleted with `shutil.rmtree`, which does not
follow links either; nothing in the folder is ever read back.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from graders.core.errors import HarnessError

PREFIX = "hw3sandbox-"
INSIDE_FILES = ("worker.py", "wire.py", "npz.py")  # from graders/inside, beside the probes package
FOLDERS = ("submission", "_harness", "inputs", "home", "tmp", "scratch")
_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_CHUNK = 1 << 20


def create(units, inside_dir: Path) -> Path:
    """A new folder holding the submission's units and the worker's code; returns its path.

    Its folders are 0755 and files 0644 (the worker may run as another user); the folder itself
    is 0711, so that user can enter it but not list it. Its name carries the grading process's
    pid, so that the folders of a grading killed before it could clean up are found and removed.
    """
    remove_orphans()
    root = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
    fd = os.open(root, _DIRECTORY)
    try:
        for folder in FOLDERS:
            _close(_make_dir(fd, folder))
        for unit in units:
            write_file(fd, f"submission/{unit.filename}", unit.code.encode("utf-8"))
        for name in INSIDE_FILES:
            write_file(fd, f"_harness/{name}", (inside_dir / name).read_bytes())
        for path in sorted((inside_dir / "probes").glob("*.py")):
            write_file(fd, f"_harness/probes/{path.name}", path.read_bytes())
        os.fchmod(fd, 0o711)
    finally:
        os.close(fd)
    return root


def copy_in(source: Path | str, folder: Path, name: str) -> Path:
    """Copy the grader's file `source` to a new file `folder/name`, following no link on the way.

    Raises:
        FileExistsError: `folder/name` exists (a link included).
    """
    fd = os.open(folder, _DIRECTORY)
    try:
        with open(source, "rb") as reader:
            target = os.open(_checked_name(name), _NEW_FILE, 0o644, dir_fd=fd)
            try:
                for block in iter(lambda: reader.read(_CHUNK), b""):
                    _write_all(target, block)
                os.fchmod(target, 0o644)
            finally:
                os.close(target)
    finally:
        os.close(fd)
    return folder / name


def write_file(root_fd: int, relative: str, data: bytes) -> None:
    """Create `relative` (folders included) under the folder `root_fd` and write `data` into it."""
    *folders, name = [_checked_name(part) for part in relative.split("/")]
    fd = os.dup(root_fd)
    try:
        for folder in folders:
            fd = _swap(fd, _make_dir(fd, folder))
        target = os.open(name, _NEW_FILE, 0o644, dir_fd=fd)
        try:
            _write_all(target, data)
            os.fchmod(target, 0o644)  # whatever the umask
        finally:
            os.close(target)
    finally:
        os.close(fd)


def remove_orphans() -> None:
    """Remove the sandbox folders of gradings that ended without removing them (killed with SIGKILL).

    Only this user's folders whose grading process is gone, as `cgroup.remove_orphans` does (graders
    that share a temporary folder across PID namespaces would not see each other's processes: give
    each its own TMPDIR).
    """
    try:
        candidates = list(Path(tempfile.gettempdir()).glob(f"{PREFIX}*-*"))
    except OSError:
        return
    for folder in candidates:
        try:
            owner = int(folder.name[len(PREFIX):].split("-")[0])
            if folder.stat().st_uid == os.geteuid():
                os.kill(owner, 0)
        except ProcessLookupError:
            remove(folder)
        except (ValueError, OSError):
            continue


def remove_file(path: Path) -> None:
    """Delete one file the grader put in a worker's folder (a link is removed, not followed)."""
    try:
        os.unlink(path)
    except OSError:
        pass


def remove(root: Path | None) -> None:
    """Delete a worker's folder and whatever the worker left in it (links are removed, not followed)."""
    if root is not None:
        shutil.rmtree(root, ignore_errors=True)


def _make_dir(parent_fd: int, name: str) -> int:
    """Open the folder `name` under `parent_fd`, creating it (0755) if needed; a link is refused."""
    try:
        os.mkdir(name, 0o755, dir_fd=parent_fd)
    except FileExistsError:
        pass
    fd = os.open(name, _DIRECTORY, dir_fd=parent_fd)
    os.fchmod(fd, 0o755)
    return fd


def _checked_name(name: str) -> str:
    if name in ("", ".", "..") or "/" in name or "\0" in name:
        raise HarnessError(f"refusing the path component {name!r} in the worker's folder")
    return name


def _swap(old: int, new: int) -> int:
    os.close(old)
    return new


def _close(fd: int) -> None:
    os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
