"""The grading process behind a notebook's `check()`: started once per kernel, kept warm between checks.

The kernel sends one JSON line per grading (`{"submission", "questions", "json", "report"}`); this process
grades it as `hw3check` does (the pytest graders, the kit's recorded values, the public seed) in this same
process, so pytest and the graders are imported once, and the submission's worker is kept between gradings
of the same content (`--keep-worker`): a check after the first costs its checks only. It answers one JSON
line per grading (`{"exit_code"}`, or `{"error"}`) on the descriptor its stdout had at start; pytest's own
output goes to the log file named by $HW3CHECK_LOG. It ends, with its worker, when the kernel closes its
stdin (the kernel ended or restarted).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

LOG_VARIABLE = "HW3CHECK_LOG"


class GradingServer:
    """The kernel's side: start the grading process on first use, send it gradings, restart it if it died."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.log = folder / "grading.log"
        self._process: subprocess.Popen | None = None
        self._lock = threading.Lock()

    def grade(self, request: dict) -> dict:
        """Grade one request; returns the reply. A KeyboardInterrupt (the kernel interrupted) stops the process.

        Raises:
            RuntimeError: the grading process ended without answering (its log's end says why).
        """
        with self._lock:
            process = self._started()
            try:
                process.stdin.write(json.dumps(request) + "\n")
                process.stdin.flush()
                line = process.stdout.readline()
            except KeyboardInterrupt:
                self.close()  # it may still be grading: never read its late answer as the next one's
                raise
            except (BrokenPipeError, OSError):
                line = ""
            if not line:
                self.close()
                raise RuntimeError(f"the grading process ended without an answer; the end of its log {self.log}:\n"
                                   f"{_tail(self.log)}")
            return json.loads(line)

    def close(self) -> None:
        """End the grading process (and its worker)."""
        process, self._process = self._process, None
        if process is None:
            return
        try:
            process.stdin.close()
            process.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            process.kill()
            process.wait()

    def _started(self) -> subprocess.Popen:
        if self._process is not None and self._process.poll() is None:
            return self._process
        environment = {**os.environ, LOG_VARIABLE: str(self.log), "MPLBACKEND": "Agg"}  # not the kernel's inline one
        self._process = subprocess.Popen([sys.executable, "-m", "hw3check.server"], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                         env=environment, cwd=os.getcwd())
        return self._process


def _tail(path: Path, limit: int = 3000) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[-limit:]
    except OSError:
        return "(no log)"


# -- the grading process ------------------------------------------------------------------------

def serve(requests, replies) -> None:
    """Answer each request line with a reply line until the requests end; then close the kept worker."""
    from graders.harness import warm

    try:
        for line in requests:
            if line.strip():
                replies.write(json.dumps(grade_request(json.loads(line))) + "\n")
                replies.flush()
    finally:
        warm.close_kept()


def grade_request(request: dict) -> dict:
    """One grading of the kit's public checks, keeping the worker for the next."""
    from graders.core.options import GradingOptions
    from graders.harness.run import grade

    options = GradingOptions(submission=request["submission"], questions=tuple(request.get("questions") or ()),
                             json_path=request["json"], report_path=request["report"], keep_worker=True,
                             extra_args=("-q", "-p", "no:faulthandler"))
    try:
        return {"exit_code": grade(options).exit_code}
    except Exception as exc:  # noqa: BLE001 - said to the kernel, which shows it; the next request may work
        return {"error": f"{type(exc).__name__}: {exc}"}


def main() -> None:
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    log = open(os.environ.get(LOG_VARIABLE) or os.devnull, "a", encoding="utf-8")  # noqa: SIM115 - lives as long
    os.dup2(log.fileno(), 1)  # pytest and the graders print here, never into the replies
    os.dup2(log.fileno(), 2)
    serve(sys.stdin, replies)


if __name__ == "__main__":
    main()
