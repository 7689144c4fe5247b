"""How the grader's side of the sandbox words what happened to a worker: a request, an exit, its memory."""

from __future__ import annotations

import signal
import subprocess

from graders.sandbox import isolation as confine

WORKER_INTERNAL_ERROR = 70  # worker.INTERNAL_ERROR (the worker cannot be imported here)


def describe_request(request: dict) -> str:
    if request.get("op") == "probe":
        return f"the grader's {request['name']} check"
    if request.get("op") == "get":
        return f"reading `{request['name']}`"
    return f"`{request['name']}(...)`"


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


def exit_reason(code: int | None, level: str) -> str:
    if code is None:
        return "the worker stopped"
    if level == confine.BUBBLEWRAP and code > 128:
        code = -(code - 128)  # bubblewrap reports a signal death of its child as 128 + signal
    if code == WORKER_INTERNAL_ERROR:
        return ("the worker failed while handling your code (does it patch Python's builtins, numpy or "
                "the os module at the top level?)")
    if code >= 0:
        return f"the process exited with status {code} (does the code call sys.exit(), os._exit() or exit()?)"
    reasons = {
        signal.SIGXCPU: "it used up its CPU-time limit",
        signal.SIGXFSZ: "it wrote a file larger than the sandbox allows",
        signal.SIGSEGV: "it crashed with a segmentation fault",
        signal.SIGKILL: "it was killed (out of memory, or it killed itself)",
    }
    return reasons.get(-code, f"it was killed by signal {-code}")
