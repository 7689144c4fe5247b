"""A per-worker control group, where the machine lets us make one: a process cap and a memory cap.

rlimits cannot stop a fork bomb run by root (root is exempt from RLIMIT_NPROC), and RLIMIT_AS
caps address space rather than memory in use. A cgroup caps both, and lists every process the
worker started, so that all of them, daemons included, can be killed. cgroup v1 (separate
`pids` and `memory` hierarchies) and v2 (one unified hierarchy) are both handled; where
neither is writable the sandbox runs without one and says so. The worker never sees this tree:
under bubblewrap `/sys/fs/cgroup` is an empty read-only folder, and the worker's user owns none
of these files.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
CPU_PERIOD_US = 100_000  # the scheduler period of a CPU limit: quota / period = CPUs


def remove_orphans() -> None:
    """Remove the cgroups of graders that died without cleaning up (killed with SIGKILL, say)."""
    for folder in CGROUP_ROOT.glob("**/hw3grader-*"):
        try:
            owner = int(folder.name.split("-")[1])
            os.kill(owner, 0)
        except ProcessLookupError:
            WorkerCgroup([folder]).remove()
        except (ValueError, IndexError, PermissionError):
            continue


def _write_limit(folder: Path, key: str, value: int | str) -> None:
    """Write one limit; a key ending in "?" is optional (swap accounting may be off)."""
    optional = key.endswith("?")
    path = folder / key.rstrip("?")
    try:
        path.write_text(str(value))
    except OSError:
        if not optional:
            raise


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def machine_memory_bytes() -> int:
    """The memory this grader may use: physical memory, or less where its own cgroup caps it (a container)."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return min([total, *_own_memory_limits()])


def _own_memory_limits() -> list[int]:
    """Every memory limit on the path from this process's cgroup up to the root (limits are hierarchical)."""
    limits = []
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return limits
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":
            base, keys = CGROUP_ROOT, ("memory.max",)
        elif "memory" in controllers.split(","):
            base, keys = CGROUP_ROOT / "memory", ("memory.limit_in_bytes",)
        else:
            continue
        folder = base / path.lstrip("/")
        while True:
            for key in keys:
                value = _read(folder / key)
                if value is not None and value.isdigit():
                    limits.append(int(value))
            if folder == base or base not in folder.parents:
                break
            folder = folder.parent
    return limits


class WorkerCgroup:
    """The cgroup(s) of one worker; `create` returns None where cgroups are not available."""

    def __init__(self, folders: list[Path]) -> None:
        self.folders = folders

    @classmethod
    def create(cls, *, max_processes: int, memory_bytes: int, cpus: float | None = None) -> "WorkerCgroup | None":
        """Make the cgroup(s) with their limits, or return None when this machine does not allow it.

        Args:
            cpus: the CPU time the worker may use, in CPUs (1.5: one and a half cores' worth); None: no limit.
        """
        remove_orphans()
        name = f"hw3grader-{os.getpid()}-{uuid.uuid4().hex[:8]}"  # the grader's pid: orphans are findable
        unified = CGROUP_ROOT / "cgroup.controllers"
        quota = None if cpus is None else max(1000, int(cpus * CPU_PERIOD_US))
        if unified.exists():
            plan = {CGROUP_ROOT / name: {"pids.max": max_processes, "memory.max": memory_bytes,
                                         "memory.swap.max?": 0, **({"cpu.max": f"{quota} {CPU_PERIOD_US}"}
                                                                   if quota else {})}}
        else:
            plan = {CGROUP_ROOT / "pids" / name: {"pids.max": max_processes},
                    CGROUP_ROOT / "memory" / name: {"memory.limit_in_bytes": memory_bytes,
                                                    "memory.memsw.limit_in_bytes?": memory_bytes}}
            if quota:
                plan[CGROUP_ROOT / "cpu" / name] = {"cpu.cfs_period_us": CPU_PERIOD_US, "cpu.cfs_quota_us": quota}
        made: list[Path] = []
        try:
            for folder, limits in plan.items():
                folder.mkdir(mode=0o755)
                made.append(folder)
                for key, value in limits.items():
                    _write_limit(folder, key, value)
        except OSError:
            cls(made).remove()
            return None
        return cls(made)

    def memory_limit(self) -> int | None:
        """The memory cap as the kernel holds it (None without a memory cgroup)."""
        for folder in self.folders:
            for key in ("memory.max", "memory.limit_in_bytes"):
                value = _read(folder / key)
                if value is not None:
                    return int(value) if value.isdigit() else None
        return None

    def out_of_memory_kills(self) -> int:
        """How many processes the kernel killed in this cgroup for reaching its memory cap."""
        for folder in self.folders:
            for key in ("memory.events", "memory.oom_control"):  # v2, v1 (kernel 4.13 on)
                for line in (_read(folder / key) or "").splitlines():
                    field, _, count = line.partition(" ")
                    if field == "oom_kill" and count.strip().isdigit():
                        return int(count)
        return 0

    def enter(self) -> None:
        """Move the calling process into the cgroup(s): run in the child, before it execs."""
        for folder in self.folders:
            (folder / "cgroup.procs").write_text(str(os.getpid()))

    def pids(self) -> set[int]:
        """Every process now in the cgroup."""
        found: set[int] = set()
        for folder in self.folders:
            try:
                found |= {int(line) for line in (folder / "cgroup.procs").read_text().split()}
            except OSError:
                pass
        return found

    def cpu_limit(self) -> float | None:
        """The CPU limit as the kernel holds it, in CPUs (None: none)."""
        for folder in self.folders:
            quota = (_read(folder / "cpu.max") or "").split()
            if len(quota) == 2 and quota[0].isdigit():
                return int(quota[0]) / int(quota[1])
            quota, period = _read(folder / "cpu.cfs_quota_us"), _read(folder / "cpu.cfs_period_us")
            if quota and period and quota.isdigit():
                return int(quota) / int(period)
        return None

    def kill_all(self, *, rounds: int = 50, spare: set[int] = frozenset()) -> None:
        """SIGKILL every process in the cgroup but `spare`, again and again until none is left (forks race us)."""
        for _ in range(rounds):
            pids = self.pids() - set(spare)
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            time.sleep(0.02)

    def remove(self) -> None:
        """Kill what is left and delete the cgroup(s)."""
        self.kill_all()
        for folder in self.folders:
            for _ in range(50):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:  # still busy for a moment after the last process died
                    time.sleep(0.05)
