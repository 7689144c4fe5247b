"""One grading run: its options and seed, the submission and its sandbox, and the outputs at the end.

`plugin.py` keeps one `GradingSession` per pytest run and calls these methods; they are kept
apart so the plugin stays a thin layer over pytest.
"""

from __future__ import annotations

import importlib.metadata
import platform
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from graders.core.errors import SubmissionLoadError
from graders.core.exits import EXIT_ALL_PASSED, EXIT_GRADER_ERROR, EXIT_NOT_LOADED, EXIT_SOME_FAILED
from graders.core.isolation import NOT_LOADED, NOT_STARTED, Isolation
from graders.core.options import GradingOptions, default_report_path
from graders.core.results import CheckResult, GradingResult, QuestionResult, write_json
from graders.questions import BY_ID

SESSION_KEY = pytest.StashKey["GradingSession"]()
# The worker never needs these; under bubblewrap they are replaced by empty folders.
HIDDEN_FROM_WORKER = ("reference", "graders", "tests", "submissions", "reports", "benchmarks", ".git")
PACKAGES = ("tensorflow", "keras", "keras-tuner", "numpy", "scikit-learn", "pytest")


@dataclass(frozen=True)
class SandboxSettings:
    """rubric.toml [sandbox]: timeouts and limits of one submission's worker."""

    call_timeout_s: float  # one plain call into student code, or a read of a global
    probe_timeout_s: float  # a probe whose grader sets no timeout of its own
    load_timeout_s: float  # importing the submission
    cpu_seconds: int  # CPU time of one worker over its whole life
    memory_gib: float  # per worker, the upper bound of its memory cap (cgroup; address-space rlimit)
    memory_share: float  # share of the machine's memory that all parallel workers together may use
    file_mib: float  # largest file the student's code may write
    open_files: int
    threads: int  # per worker: TensorFlow intra-op and BLAS threads
    processes: int  # processes and threads of one worker (a cgroup cap)
    scratch_mib: float  # each writable folder of the worker under bubblewrap
    reply_mib: float  # largest reply the grading process reads back from the worker
    worker_uid: int  # the unprivileged user the worker runs as under bubblewrap when the grader is root


@dataclass
class GradingSession:
    """Everything recorded during one grading run."""

    options: GradingOptions
    seed: int
    seed_source: str = "default"  # "given", "default" (a self-check) or "fresh" (a hidden run's secret seed)
    started: float = field(default_factory=time.perf_counter)
    results: dict[str, CheckResult] = field(default_factory=dict)
    collected: list[str] = field(default_factory=list)  # every check id of the run, in order
    deselected: int = 0  # checks left out by -k
    prepared: object = None  # the PreparedSubmission
    load_error: str = ""
    isolation: Isolation = NOT_STARTED
    load: dict = field(default_factory=dict)
    answers: dict = field(default_factory=dict)
    dataset: dict = field(default_factory=dict)
    worker: dict = field(default_factory=dict)
    rubric: object = None
    profile: dict = field(default_factory=dict)  # where this grading's seconds went (benchmarks/bench.py prints it)
    _split: object = None

    # -- the submission and its sandbox ---------------------------------------------------

    def prepare(self) -> None:
        """Read and parse the submission (nothing of it runs); record why, if it cannot be loaded."""
        from graders.submission.loader import prepare_submission

        self.mark("collection_s")
        started = time.perf_counter()
        try:
            self.prepared = prepare_submission(self.options.submission)
        except SubmissionLoadError as exc:
            self.load_error = f"the submission could not be loaded: {exc}"
            self.load = {"error": self.load_error}
            self.isolation = NOT_LOADED
            return
        finally:
            self.profile["read_submission_s"] = round(time.perf_counter() - started, 3)
        self.load = self.prepared.to_json()

    def close_student(self, sandbox) -> None:
        """Record the answers and the isolation that actually ran, then close the worker."""
        self.answers = sandbox.collect_answers()
        self.isolation = sandbox.isolation_description
        self.mark("checks_s")
        self.worker = {"starts": sandbox.starts, "load_s": round(sandbox.load_seconds, 3),
                       "peak_rss_mb": round(sandbox.peak_rss_bytes() / 2**20, 1)}
        if sandbox.load_problems:  # what failed while the worker ran the submission's top level
            self.load["problems"] = [*self.load.get("problems", []), *sandbox.load_problems]
        sandbox.close()

    def worker_failed_to_load(self, message: str) -> None:
        """The worker could not run the submission's top level: every later check is "not graded"."""
        if not self.load_error:
            self.load_error = message
            self.load["error"] = message

    def mnist(self):
        """The MNIST split of this run, loaded once."""
        if self._split is None:
            from graders.core.mnist import load_mnist

            self._split = load_mnist(seed=self.seed, source=self.options.mnist)
            self.dataset = self._split.describe()
        return self._split

    # -- results ----------------------------------------------------------------------------

    def graded_questions(self) -> list[str]:
        return sorted({check_id.partition(".")[0] for check_id in self.collected}, key=_natural_key)

    def is_partial(self) -> bool:
        """Only some questions or checks were graded, so the total is not the submission's grade."""
        every_question = {q for q in (self.rubric.questions() if self.rubric else [])}
        return bool(self.deselected) or set(self.graded_questions()) != every_question

    def build_result(self, *, duration_s: float) -> GradingResult:
        """Group the recorded checks by question (q1 ... q7) into a GradingResult."""
        questions: dict[str, QuestionResult] = {}
        for check_id, check in self.results.items():  # in the order the checks ran
            question = check_id.partition(".")[0]
            if question not in questions:
                declared = BY_ID[question].title if question in BY_ID else None
                questions[question] = QuestionResult(id=question, title=self.rubric.title(question, default=declared))
            questions[question].checks.append(check)
        return GradingResult(
            submission=str(self.options.submission), seed=self.seed, hidden=self.options.hidden,
            isolation=self.isolation, dataset=self.dataset or self._dataset_description(), duration_s=duration_s,
            questions=[questions[q] for q in sorted(questions, key=_natural_key)], load=self.load,
            answers=self.answers, worker=self.worker, versions=package_versions(),
            graded_questions=self.graded_questions(), partial=self.is_partial())

    def report_path(self) -> Path:
        if self.options.report_path:
            return Path(self.options.report_path)
        partial = tuple(self.graded_questions()) if self.is_partial() else ()
        return default_report_path(self.options.submission, partial_questions=partial)

    def write_outputs(self, *, duration_s: float) -> GradingResult:
        """Write every output the run asked for: JSON, HTML report (always), Gradescope."""
        from reports.gradescope import write_gradescope
        from reports.render import write_fallback_report, write_report

        started = time.perf_counter()
        result = self.build_result(duration_s=duration_s)
        if self.options.json_path:
            write_json(result, self.options.json_path)
        try:
            write_report(result, self.report_path())
        except Exception:
            write_fallback_report(result, self.report_path())  # a report is always written; then fail loudly
            raise
        if self.options.gradescope_path:
            write_gradescope(result, self.options.gradescope_path)
        if self.options.json_path:  # rewritten with the profile completed: the outputs' own cost included
            result.profile = self.finished_profile(outputs_s=time.perf_counter() - started)
            write_json(result, self.options.json_path)
        return result

    def mark(self, phase: str) -> None:
        """Record the seconds since the previous mark (the first: since the grading process started) as `phase`."""
        now = time.perf_counter()
        previous = self.profile.get("_last", _process_started())
        self.profile.setdefault(phase, round(now - previous, 3))
        self.profile["_last"] = now

    def finished_profile(self, *, outputs_s: float) -> dict:
        """The profile as the results JSON records it."""
        import sys

        profile = {key: value for key, value in self.profile.items() if not key.startswith("_")}
        return {**profile, "outputs_s": round(outputs_s, 3),
                "grader_imported_tensorflow": "tensorflow" in sys.modules,
                "checks_by_question_s": _seconds_by_question(self.results.values())}

    def exit_code(self, pytest_status: int) -> int:
        """README "Exit codes": all passed, some failed, not loaded, grader error (pytest's own kept)."""
        statuses = {check.status for check in self.results.values()}
        if self.load_error:
            return EXIT_NOT_LOADED
        if "error" in statuses or pytest_status not in (0, 1):
            return pytest_status if pytest_status not in (0, 1) else EXIT_GRADER_ERROR
        return EXIT_SOME_FAILED if "failed" in statuses else EXIT_ALL_PASSED

    def summary_lines(self) -> list[str]:
        """The terminal's HW3 section: the load error once, one line per question, the total."""
        from graders.harness.summary import summary_lines

        return summary_lines(self.build_result(duration_s=0.0), report=self.report_path(),
                             seed_note=self._seed_note())

    def _seed_note(self) -> str:
        if self.seed_source == "fresh":
            return "a fresh secret seed, recorded in the results JSON only"
        return ""

    def _dataset_description(self) -> dict:
        try:
            return self.mnist().describe()
        except Exception:  # noqa: BLE001 - the description is informative only; a data error shows in q1/q7
            return {}


def _process_started() -> float:
    """When this process started, on the perf_counter clock (from /proc; now if unknown)."""
    import os

    try:
        with open("/proc/self/stat", encoding="ascii") as stat:
            ticks = int(stat.read().rpartition(")")[2].split()[19])
        with open("/proc/uptime", encoding="ascii") as uptime:
            age = float(uptime.read().split()[0]) - ticks / os.sysconf("SC_CLK_TCK")
        return time.perf_counter() - age
    except (OSError, ValueError, IndexError):
        return time.perf_counter()


def _seconds_by_question(checks) -> dict:
    seconds: dict[str, float] = {}
    for check in checks:
        question = check.id.partition(".")[0]
        seconds[question] = round(seconds.get(question, 0.0) + check.duration_s, 3)
    return seconds


def package_versions() -> dict:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _natural_key(check_id: str):
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", check_id)]
