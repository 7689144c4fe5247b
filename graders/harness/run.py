"""Run one grading: the pytest graders on a submission, in this process or in a child process.

The only way a grading is started: `hw3grade grade` and `hw3grade batch`, the benchmark and the
harness's own tests all come through here with a `GradingOptions`.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from graders.core.options import GradingOptions, thread_environment
from graders.core.paths import PROJECT_ROOT
from graders.core.results import GradingResult, from_json
from graders.questions import QUESTIONS


@dataclass(frozen=True)
class Graded:
    """What a grading left: its results JSON (None when it wrote none), its exit code and its output."""

    data: dict | None
    exit_code: int
    output: str = ""
    timed_out: bool = False

    @property
    def result(self) -> GradingResult | None:
        return None if self.data is None else from_json(self.data)


def grade(options: GradingOptions) -> Graded:
    """Grade in this process (pytest.main), printing pytest's output as it goes.

    The results JSON goes to `options.json_path`, else to a temporary file it is read back from.
    """
    import pytest

    with tempfile.TemporaryDirectory(prefix="hw3grade-") as scratch:
        options = options if options.json_path else replace(options, json_path=str(Path(scratch) / "results.json"))
        code = int(pytest.main(options.pytest_args()))
        return Graded(_read_json(Path(options.json_path)), code)


def grade_in_subprocess(options: GradingOptions, *, timeout_s: float | None = None, env: dict | None = None) -> Graded:
    """Grade in a child `python -m pytest`, with its own plugin state, imports and sandbox.

    Args:
        timeout_s: stop the grading after this long (`Graded.timed_out` then says so).
        env: variables added to this process's environment; the math libraries are pinned to
            `options.threads` threads when it is set.
    """
    with tempfile.TemporaryDirectory(prefix="hw3grade-") as scratch:
        options = options if options.json_path else replace(options, json_path=str(Path(scratch) / "results.json"))
        command = [sys.executable, "-m", "pytest", *options.pytest_args()]
        environment = {**os.environ, **(thread_environment(options.threads) if options.threads else {}), **(env or {})}
        try:
            # Same process group as the caller: killing a batch stops its gradings too.
            process = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=timeout_s,
                                     env=environment)
        except subprocess.TimeoutExpired as expired:
            output = (expired.stdout or b"").decode("utf-8", "replace") if isinstance(expired.stdout, bytes) \
                else (expired.stdout or "")
            return Graded(None, -1, output, timed_out=True)
        return Graded(_read_json(Path(options.json_path)), process.returncode, process.stdout + process.stderr)


# What a grading process imports before it grades anything: a batch's gradings are forked from a
# server that imported them once (no student code ever runs in it or in them: only in their workers).
PRELOADED = ["pytest", "numpy", "graders.harness.plugin", "graders.harness.session", "graders.harness.student",
             "graders.core.mnist", "graders.submission.loader", "reports.render", "reports.gradescope",
             *(question.grader_module for question in QUESTIONS), "matplotlib.pyplot"]
_FORKSERVER = None


def grade_in_forked_process(options: GradingOptions, *, timeout_s: float | None = None) -> Graded:
    """Grade in a child forked from a warm server that has imported pytest and the graders once.

    Each grading still has its own process (its own plugin state, crash and timeout), without
    paying the interpreter's start and the imports again: what `hw3grade batch` does for a class.
    `options.json_path` must be set; the child's output goes to a log file beside it.
    """
    log = Path(options.json_path).with_suffix(".log")
    child = _forkserver(options.threads).Process(target=_grade_child, args=(options, str(log)), daemon=False)
    child.start()
    child.join(timeout_s)
    timed_out = child.is_alive()
    if timed_out:
        stop(child)
    output = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    data = None if timed_out else _read_json(Path(options.json_path))
    return Graded(data, -1 if timed_out else int(child.exitcode or 0), output, timed_out=timed_out)


STOP_GRACE_S = 10.0  # how long a grading stopped with SIGTERM may take to close its sandbox


def stop(child) -> None:
    """End a grading process: SIGTERM first, so that it closes its sandbox (worker, cgroup, folder;
    graders/sandbox/cleanup.py), then SIGKILL if it is still there after STOP_GRACE_S."""
    child.terminate()
    child.join(STOP_GRACE_S)
    if child.is_alive():
        child.kill()
        child.join()


# What a grading writes that holds the class's seed (a hidden run's secret): readable by its owner only.
PRIVATE_OUTPUTS = ("results.json",)


def keep_private(folder: Path) -> None:
    """Make the outputs in `folder` that hold the seed readable by their owner alone (0600).

    Called while they are still in the batch's private scratch folder, before they are moved beside
    the reports a TA hands out, so they are never readable by others, not even for a moment.
    """
    for name in PRIVATE_OUTPUTS:
        try:
            os.chmod(folder / name, 0o600)
        except FileNotFoundError:
            pass


def _forkserver(threads: int | None):
    global _FORKSERVER
    if _FORKSERVER is None:
        # The server imports numpy: pin its math threads before it starts (it inherits this environment).
        os.environ.update(thread_environment(threads) if threads else {})
        _FORKSERVER = multiprocessing.get_context("forkserver")
        _FORKSERVER.set_forkserver_preload(PRELOADED)
    return _FORKSERVER


def _grade_child(options: GradingOptions, log: str) -> None:
    import pytest

    descriptor = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(descriptor, 1)
    os.dup2(descriptor, 2)
    os.chdir(PROJECT_ROOT)
    os.environ.update(thread_environment(options.threads) if options.threads else {})
    sys.exit(int(pytest.main(options.pytest_args())))


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
