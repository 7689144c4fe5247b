"""How the sandbox worker is confined: bubblewrap when it works here, else a plain process.

Both levels get rlimits and a scrubbed environment; only bubblewrap adds a read-only system,
no network, private PID and IPC namespaces, size-capped writable folders, hidden grader files
and, whoever starts the grader, an unprivileged worker: a root-started grader runs bubblewrap
as root (it needs root to build the namespaces without a user namespace) and bubblewrap runs
the worker through `setpriv` as an unprivileged user with no capability at all, so the worker
can neither remount a read-only folder nor write a cgroup's limits. A plain process started
by root is root: the isolation says so (`Isolation.unconfined_root`, "process (unconfined root)").
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

from graders.core.errors import HarnessError
from graders.core.isolation import BUBBLEWRAP, PROCESS, Isolation
from graders.sandbox import masks

LEVELS = ("auto", BUBBLEWRAP, PROCESS)
NOBODY = 65534
# Without a user namespace (bubblewrap run by root), so that the worker can become another user.
_NAMESPACES_AS_ROOT = ("--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try")


@dataclass(frozen=True)
class Limits:
    """Resource limits of one worker process (all inherited by its children)."""

    cpu_seconds: int = 3600
    memory_bytes: int = 8 * 2**30  # the cgroup's cap; the address-space rlimit alone where there is none
    file_bytes: int = 256 * 2**20
    open_files: int = 1024
    threads: int = 2
    processes: int = 512  # tasks (threads too) in the worker's cgroup, where there is one
    scratch_bytes: int = 512 * 2**20  # each writable tmpfs under bubblewrap (home, scratch, tmp, /tmp, /dev/shm)
    uid: int = NOBODY  # who the worker is under bubblewrap when the grader runs as root
    cpus: float | None = None  # the CPU time it may use, in CPUs (a cgroup limit, where there is one)


def running_as_root() -> bool:
    return os.geteuid() == 0


@functools.lru_cache(maxsize=4)
def bubblewrap_works(uid: int = NOBODY) -> bool:
    """True when `bwrap` exists and can confine the worker here as the sandbox does (unprivileged inside)."""
    if shutil.which("bwrap") is None or (running_as_root() and shutil.which("setpriv") is None):
        return False
    from graders.sandbox import seccomp

    try:
        program = seccomp.program_fd()
    except seccomp.SeccompUnavailable:
        return False
    probe = [*_bubblewrap_prefix(uid), "--ro-bind", "/", "/", "--proc", "/proc", "--perms", "1777", "--size", "4096",
             "--tmpfs", "/tmp", "--ro-bind", "/dev/null", "/tmp/masked", "--seccomp", str(program), "--",
             *_drop_privileges(uid), "true"]  # every feature wrap_command uses
    try:
        return subprocess.run(probe, capture_output=True, timeout=20, pass_fds=(program,)).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False
    finally:
        os.close(program)


def choose_level(requested: str, uid: int = NOBODY) -> str:
    """Resolve "auto" to the strongest level available.

    Raises:
        HarnessError: when bubblewrap is requested but does not work here.
    """
    if requested not in LEVELS:
        raise HarnessError(f"unknown isolation {requested!r}; expected one of {LEVELS}")
    if requested == PROCESS:
        return PROCESS
    if bubblewrap_works(uid):
        return BUBBLEWRAP
    if requested == BUBBLEWRAP:
        raise HarnessError("isolation 'bubblewrap' was requested but bwrap does not work here")
    return PROCESS


def describe(level: str, *, cgroup: bool) -> Isolation:
    """What ran: the level, whether a cgroup capped it, and whether it was a plain process started by root."""
    return Isolation(level, cgroup=cgroup, unconfined_root=level == PROCESS and running_as_root())


def unconfined_root_warning() -> str:
    return ("the grader runs as root without bubblewrap: the submission's code runs as root on this machine "
            "(it can read, change or delete anything here). Install bubblewrap (apt-get install bubblewrap).")


def refuse_unconfined_root(isolation: str) -> None:
    """A batch run by root grades under bubblewrap, unless `--isolation process` was asked for explicitly.

    Raises:
        HarnessError: root, no working bubblewrap, and isolation "auto".
    """
    if isolation == "auto" and running_as_root() and not bubblewrap_works():
        raise HarnessError(f"refusing to grade a class: {unconfined_root_warning()} To accept that, pass "
                           "--isolation process explicitly.")


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


WRITABLE = ("home", "tmp", "scratch")  # the worker's writable folders inside its workdir
WRITABLE_SYSTEM = ("/tmp", "/dev/shm")  # and outside it (multiprocessing and TensorFlow use them)
READ_ONLY_INSIDE = ("/sys/fs/cgroup",)  # replaced by an empty read-only folder: no view of any cgroup


def wrap_command(level: str, command: list[str], *, workdir: Path, hidden: list[Path], limits: Limits,
                 seccomp_fd: int | None = None) -> list[str]:
    """Prefix `command` with the bubblewrap invocation for `level` (unchanged for PROCESS).

    Under bubblewrap the worker sees only an allowlist, read-only: the system folders, this
    Python and its packages, and its own workdir (the submission's copy, the worker's code,
    shared inputs). Nothing else of the machine exists for it (no other checkout of the
    reference solution, no home folder, no cgroup), data files of the packages and the grader's
    caches are hidden (sandbox/masks.py), and only size-capped tmpfs folders are writable, so a
    submission can neither read the grader's files or data, change anything, nor fill the disk or
    the memory through a file.

    Args:
        seccomp_fd: a descriptor holding the seccomp program (sandbox/seccomp.py), which bubblewrap
            applies as its last step before it runs the worker.
    """
    if level == PROCESS:
        return command
    args = _view(workdir, hidden, limits)
    if seccomp_fd is not None:
        args += ["--seccomp", str(seccomp_fd)]
    return [*args, "--", *_drop_privileges(limits.uid), *command]


def wrap_zygote(command: list[str], *, workdir: Path, inbox: Path, hidden: list[Path], limits: Limits) -> list[str]:
    """Prefix `command` with bubblewrap, for a worker slot's zygote (graders/inside/zygote.py), run by root.

    The zygote's view is a worker's (`wrap_command`: the same allowlist, masks, namespaces and capped
    writable places), with the slot's `inbox` bound read-only besides, where the grader writes each
    student's folder. It is not dropped to an unprivileged user and gets no seccomp filter: it stays
    root with its capabilities inside bubblewrap's namespaces, which it needs to make each worker's
    namespaces and mounts, and then drops each worker exactly as `_drop_privileges` and `--seccomp` would.
    """
    if not running_as_root():
        raise HarnessError("a worker slot's zygote needs bubblewrap run by root")
    inbox_bind = [*_open_parents(str(inbox)), "--ro-bind", str(inbox), str(inbox)]
    return [*_view(workdir, hidden, limits, also=inbox_bind), "--", *command]


def _view(workdir: Path, hidden: list[Path], limits: Limits, also: list[str] = ()) -> list[str]:
    """bubblewrap's options for a worker's view of the machine (see wrap_command), `also` bound besides."""
    args = [*_bubblewrap_prefix(limits.uid), "--dev", "/dev", "--proc", "/proc"]
    for path in WRITABLE_SYSTEM:
        args += _capped_tmpfs(path, limits)
    for path in SYSTEM_PATHS:
        args += _bind_system_path(Path(path))
    for path in READ_ONLY_INSIDE:
        if Path(path).is_dir():
            args += _empty_folder(path)
    for prefix in _python_prefixes():
        args += [*_open_parents(prefix), "--ro-bind", prefix, prefix]
    args += [*_open_parents(str(workdir)), "--ro-bind", str(workdir), str(workdir)]
    for name in WRITABLE:
        args += _capped_tmpfs(str(workdir / name), limits)
    args += also  # after /tmp's tmpfs, which would hide it
    emptied = [path for path in hidden if path.is_dir() and not _contains(path, workdir)]
    for path in emptied:  # in case a bound prefix (a venv inside the project, the kit's site-packages) contains one
        args += _empty_folder(str(path))
    args += _masks(_python_prefixes(), emptied=emptied)
    return [*args, "--remount-ro", "/", "--die-with-parent", "--new-session", "--chdir", str(workdir / "scratch")]


def _empty_folder(path: str) -> list[str]:
    return ["--size", "4096", "--tmpfs", path, "--remount-ro", path]


def _masks(prefixes: list[str], *, emptied: list[Path] = ()) -> list[str]:
    """Hide the data files and caches under the bound folders (sandbox/masks.py).

    What lies in a folder already `emptied` is hidden with it; masking it again would make bubblewrap
    create the mount point inside that read-only tmpfs and fail (the kit ships q7's model files inside
    its `graders` folder, which the worker does not see).
    """
    found = masks.masks_under(prefixes, secrets=masks.grader_secrets())
    bound = [Path(path) for path in [*prefixes, *SYSTEM_PATHS] if not Path(path).is_symlink()]

    def inside(path: str) -> bool:
        seen = any(_contains(root, Path(path)) for root in bound)
        return seen and not any(_contains(folder, Path(path)) for folder in emptied)

    args = []
    for folder in found.folders:
        if inside(folder):
            args += _empty_folder(folder)
    for file in found.files:
        if inside(file):
            args += ["--ro-bind", "/dev/null", file]
    return args


def _bubblewrap_prefix(uid: int) -> list[str]:
    if running_as_root():  # namespaces without a user namespace; setpriv then drops to `uid`
        return ["bwrap", *_NAMESPACES_AS_ROOT]
    return ["bwrap", "--unshare-all", "--cap-drop", "ALL"]  # an unprivileged user namespace, as this user


def _drop_privileges(uid: int) -> list[str]:
    """Run as `uid` with no capability, no supplementary group and no way back (setuid binaries do nothing)."""
    if not running_as_root():
        return []
    return [shutil.which("setpriv") or "setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]


def _open_parents(path: str) -> list[str]:
    """Create the folders above a bind as 0755: bubblewrap's own are 0700, closed to the worker's user."""
    args = []
    for parent in reversed(Path(path).parents[:-1]):  # from the top, without "/"
        args += ["--perms", "0755", "--dir", str(parent)]
    return args


def _capped_tmpfs(path: str, limits: Limits) -> list[str]:
    # World-writable with the sticky bit: the worker's user does not own what bubblewrap mounts.
    return ["--perms", "1777", "--size", str(limits.scratch_bytes), "--tmpfs", path]


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


def address_space_bytes(limits: Limits, *, cgroup: bool) -> int:
    """RLIMIT_AS: the memory cap itself without a cgroup; with one, room for what TensorFlow reserves
    but never touches, so that touched memory meets the cgroup's cap (which names it) first."""
    return 2 * limits.memory_bytes if cgroup else limits.memory_bytes


def child_setup(limits: Limits, cgroup=None, *, filter_syscalls=None):
    """Return a `preexec_fn` that joins `cgroup` and applies `limits` in the child before it execs.

    Args:
        filter_syscalls: a seccomp.Loader, applied last (a plain process: bubblewrap applies its own).
    """
    address_space = address_space_bytes(limits, cgroup=cgroup is not None)

    def apply() -> None:
        if cgroup is not None:
            cgroup.enter()
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))
        resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
        resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if filter_syscalls is not None:
            filter_syscalls()

    return apply


def _contains(parent: Path, child: Path) -> bool:
    try:
        child.resolve().relative_to(parent.resolve())
        return True
    except ValueError:
        return False
