"""How the sandbox worker is confined: bubblewrap when it works here, else a plain process.

Both levels get rlimits and a scrubbed environment; only bubblewrap adds a read-only
system, no network, a private PID namespace and hidden grader files.
"""

from __future__ import annotations

import functools
import os
import resource
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from graders.harness.errors import HarnessError

BUBBLEWRAP = "bubblewrap"
PROCESS = "process"
LEVELS = ("auto", BUBBLEWRAP, PROCESS)


@dataclass(frozen=True)
class Limits:
    """Resource limits of one worker process (all inherited by its children)."""

    cpu_seconds: int = 3600
    memory_bytes: int = 24 * 2**30
    file_bytes: int = 256 * 2**20
    open_files: int = 1024
    threads: int = 2
    processes: int = 512  # tasks (threads too) in the worker's cgroup, where there is one
    scratch_bytes: int = 512 * 2**20  # each writable tmpfs under bubblewrap (home, tmp, scratch)


@functools.lru_cache(maxsize=1)
def bubblewrap_works() -> bool:
    """True when `bwrap` exists and can build the namespaces we need on this machine."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return False
    probe = [bwrap, "--ro-bind", "/", "/", "--unshare-all", "--die-with-parent", "--", "true"]
    try:
        return subprocess.run(probe, capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def choose_level(requested: str) -> str:
    """Resolve "auto" to the strongest level available.

    Raises:
        HarnessError: when bubblewrap is requested but does not work here.
    """
    if requested not in LEVELS:
        raise HarnessError(f"unknown isolation {requested!r}; expected one of {LEVELS}")
    if requested == PROCESS:
        return PROCESS
    if bubblewrap_works():
        return BUBBLEWRAP
    if requested == BUBBLEWRAP:
        raise HarnessError("isolation 'bubblewrap' was requested but bwrap does not work here")
    return PROCESS


def worker_environment(workdir: Path, threads: int) -> dict[str, str]:
    """A scrubbed environment: nothing of the grader's (no seed, no paths, no tokens)."""
    home = workdir / "home"
    thread_count = str(threads)
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "HOME": str(home),
        "TMPDIR": str(workdir / "tmp"),
        "KERAS_HOME": str(home / ".keras"),
        "MPLCONFIGDIR": str(home / ".matplotlib"),
        "MPLBACKEND": "Agg",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "TF_ENABLE_ONEDNN_OPTS": "0",
        "OMP_NUM_THREADS": thread_count,
        "OPENBLAS_NUM_THREADS": thread_count,
        "MKL_NUM_THREADS": thread_count,
        "TF_NUM_INTRAOP_THREADS": thread_count,
        "TF_NUM_INTEROP_THREADS": "1",
        **{key: os.environ[key] for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if key in os.environ},
    }


WRITABLE = ("home", "tmp", "scratch")  # the worker's only writable folders, inside its workdir


def wrap_command(level: str, command: list[str], *, workdir: Path, hidden: list[Path], limits: Limits) -> list[str]:
    """Prefix `command` with the bubblewrap invocation for `level` (unchanged for PROCESS).

    Under bubblewrap the worker sees only an allowlist, read-only: the system folders, this
    Python and its packages, and its own workdir (the submission's copy, the worker's code,
    shared inputs). Nothing else of the machine exists for it (no other checkout of the
    reference solution, no home folder), and only size-capped tmpfs folders are writable,
    so a submission can neither read the grader's files, change anything, nor fill the disk.
    """
    if level == PROCESS:
        return command
    args = ["bwrap", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
    for path in SYSTEM_PATHS:
        args += _bind_system_path(Path(path))
    for prefix in _python_prefixes():
        args += ["--ro-bind", prefix, prefix]
    args += ["--ro-bind", str(workdir), str(workdir)]
    for name in WRITABLE:
        args += ["--size", str(limits.scratch_bytes), "--tmpfs", str(workdir / name)]
    for path in hidden:  # in case a bound prefix (a venv inside the project) contains one
        if path.is_dir() and not _contains(path, workdir):
            args += ["--tmpfs", str(path)]
    args += ["--remount-ro", "/", "--unshare-all", "--die-with-parent", "--new-session",
             "--chdir", str(workdir / "scratch"), "--"]
    return args + command


SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32", "/etc", "/sys")


def _bind_system_path(path: Path) -> list[str]:
    if path.is_symlink():  # merged /usr: /bin -> usr/bin
        return ["--symlink", os.readlink(path), str(path)]
    return ["--ro-bind", str(path), str(path)] if path.exists() else []


def _python_prefixes() -> list[str]:
    """This Python, its virtualenv and where their symlinks lead (e.g. a pyenv under /root)."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable))}
    resolved = {os.path.realpath(path) for path in paths} | {os.path.abspath(path) for path in paths}
    # Keep the outermost of nested paths: binding a folder binds everything under it.
    return sorted(p for p in resolved if not any(p != q and p.startswith(q + os.sep) for q in resolved))


def child_setup(limits: Limits, cgroup=None):
    """Return a `preexec_fn` that joins `cgroup` and applies `limits` in the child before it execs."""

    def apply() -> None:
        if cgroup is not None:
            cgroup.enter()
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
        resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


def _contains(parent: Path, child: Path) -> bool:
    try:
        child.resolve().relative_to(parent.resolve())
        return True
    except ValueError:
        return False
