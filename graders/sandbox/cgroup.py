"""A per-worker control group, where the machine lets us make one: a process cap and a memory cap.

rlimits cannot stop a fork bomb run by root (root is exempt from RLIMIT_NPROC), and RLIMIT_AS
caps address space rather than memory in use. A cgroup caps both, and lists every process the
worker started, so that all of them, daemons included, can be killed. cgroup v1 (separate
`pids` and `memory` hierarchies) and v2 (one unified hierarchy) are both handled; where
neither is writable the sandbox runs without one and says so.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


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


class WorkerCgroup:
    """The cgroup(s) of one worker; `create` returns None where cgroups are not available."""

    def __init__(self, folders: list[Path]) -> None:
        self.folders = folders

    @classmethod
    def create(cls, *, max_processes: int, memory_bytes: int) -> "WorkerCgroup | None":
        """Make the cgroup(s) with their limits, or return None when this machine does not allow it."""
        remove_orphans()
        name = f"hw3grader-{os.getpid()}-{uuid.uuid4().hex[:8]}"  # the grader's pid: orphans are findable
        unified = CGROUP_ROOT / "cgroup.controllers"
        if unified.exists():
            plan = {CGROUP_ROOT / name: {"pids.max": max_processes, "memory.max": memory_bytes}}
        else:
            plan = {CGROUP_ROOT / "pids" / name: {"pids.max": max_processes},
                    CGROUP_ROOT / "memory" / name: {"memory.limit_in_bytes": memory_bytes}}
        made: list[Path] = []
        try:
            for folder, limits in plan.items():
                folder.mkdir()
                made.append(folder)
                for key, value in limits.items():
                    (folder / key).write_text(str(value))
        except OSError:
            cls(made).remove()
            return None
        return cls(made)

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

    def kill_all(self, *, rounds: int = 50) -> None:
        """SIGKILL every process in the cgroup, again and again until none is left (forks race us)."""
        for _ in range(rounds):
            pids = self.pids()
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
