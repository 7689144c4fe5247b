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
