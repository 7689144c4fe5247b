"""Run one grading: the pytest graders on a submission, in this process or in a child process.

The only way a grading is started: `hw3grade grade` and `hw3grade batch`, the benchmark and the
harness's own tests all come through here with a `GradingOptions`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from graders.harness.options import PROJECT_ROOT, GradingOptions, thread_environment
from graders.harness.results import GradingResult, from_json


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


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
