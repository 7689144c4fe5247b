"""What the grader's side of the sandbox reads about a worker that ended: its exit code, its peak memory."""

from __future__ import annotations

import subprocess


def peak_rss_of(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def exit_code_soon(process: subprocess.Popen | None, wait_s: float = 5.0) -> int | None:
    # The results pipe closes a moment before the process is reaped; a worker that
    # merely closed the pipe and lives on gets None (and is killed by the caller).
    if process is None:
        return None
    try:
        return process.wait(timeout=wait_s)
    except subprocess.TimeoutExpired:
        return None


def signal_of_wrapped(code: int | None) -> int | None:
    """bubblewrap reports a signal death of its child as 128 + signal: read it as the child's own (-signal)."""
    return -(code - 128) if code is not None and code > 128 else code


def worker_chain(pids: set[int], worker_pid, *, top: int) -> set[int]:
    """The worker's own processes among `pids` (its cgroup's): the worker and its ancestors up to `top`.

    Args:
        worker_pid: the worker's pid as it sees it (in its PID namespace under bubblewrap), as it said.
        top: the process the grader started (bubblewrap, or the worker itself).

    Everything else in the cgroup was started by the submission. Where the worker cannot be found
    (a `worker_pid` that no process of the cgroup has), every process is kept: they end with the worker.
    """
    host = sorted(pid for pid in pids if type(worker_pid) is int and _namespace_pid(pid) == worker_pid)
    if not host:
        return set(pids) | {top}
    keep, pid = {top}, host[0]
    while pid in pids and pid not in keep:
        keep.add(pid)
        pid = _parent(pid)
    return keep


def _namespace_pid(pid: int) -> int | None:
    """The innermost pid of host process `pid` (NSpid's last field), None when it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("NSpid:"):
                    return int(line.split()[-1])
    except (OSError, ValueError):
        pass
    return None


def _parent(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return int(stat.read().rpartition(")")[2].split()[1])
    except (OSError, ValueError, IndexError):
        return 0
