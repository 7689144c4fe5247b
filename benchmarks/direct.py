"""Benchmark only: a pytest plugin that grades a TRUSTED submission in the grading process itself, with no worker.

    python -m pytest ... -p benchmarks.direct      (with HW3_BENCHMARK_DIRECT=1 in the environment)

`benchmarks/bench.py` compares a normal grading with this one to measure what the sandbox machinery
(the worker process, the wire format, limits, restarts) adds to the raw compute of the same checks.
The plugin's `student` fixture replaces the grading plugin's (it is registered later); it runs
submission code unconfined, so it refuses to start unless HW3_BENCHMARK_DIRECT=1 is set; never use
it on a student's submission.
"""

from __future__ import annotations

import os
import time

import pytest

from graders.core.errors import HarnessError
from graders.core.isolation import Isolation
from graders.harness.student import StudentSandbox, open_sandbox
from graders.sandbox import workdir
from graders.sandbox.sandbox import INSIDE_DIR

ENABLE = "HW3_BENCHMARK_DIRECT"
DIRECT = Isolation("direct", note="benchmark only, unconfined")


class DirectSandbox(StudentSandbox):
    """A StudentSandbox whose 'worker' is this process: the same request handling, no process or wire."""

    def __init__(self, *args, **kwargs) -> None:
        if os.environ.get(ENABLE) != "1":
            raise HarnessError(f"benchmarks.direct runs code unconfined; it is for benchmarks ({ENABLE}=1)")
        super().__init__(*args, **kwargs)
        self._namespace: dict | None = None

    @property
    def isolation_description(self) -> Isolation:
        return DIRECT

    def _ensure_started(self) -> None:
        if self._namespace is not None:
            return
        from graders.inside import worker  # imported here: it puts the harness folder on sys.path

        self._workdir = workdir.create(self.prepared.units, INSIDE_DIR)
        submission_dir = self._workdir / "submission"
        config = {"submission_dir": str(submission_dir), "scratch_dir": str(submission_dir), "in_process": True,
                  "units": [[unit.filename, unit.origin] for unit in self.prepared.units], "seed": self.seed}
        started = time.perf_counter()
        self._namespace = worker._new_namespace()
        self.worker_problems = worker._load_units(config, self._namespace)
        self.names = sorted(self._namespace)
        self.load_seconds += time.perf_counter() - started
        self.starts += 1

    def _exchange(self, request: dict, timeout: float, *, on_loading=None) -> dict:
        from graders.inside import worker

        return worker._serve(request, self._namespace)

    def peak_rss_bytes(self) -> int:
        return 0


@pytest.fixture(scope="session")
def student(grading):
    """The submission in this process (replaces graders.harness.plugin's fixture of the same name)."""
    handle = open_sandbox(grading, kind=DirectSandbox)
    grading.isolation = handle.isolation_description
    yield handle
    grading.close_student(handle)
