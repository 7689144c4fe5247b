"""One grading run's glue: open the student's sandbox, then turn recorded checks into outputs.

`plugin.py` calls these; they are kept apart so the plugin stays a thin layer over pytest.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import platform
from pathlib import Path

from graders.harness.direct import DirectSandbox
from graders.harness.errors import SubmissionError, SubmissionLoadError
from graders.harness.loader import prepare_submission
from graders.harness.results import GradingResult, QuestionResult, write_json
from graders.harness.sandbox import Sandbox, SandboxConfig

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# The worker never needs these; under bubblewrap they are replaced by empty folders.
HIDDEN_FROM_WORKER = ("reference", "graders", "tests", "submissions", "reports", "benchmarks", ".git")
PACKAGES = ("tensorflow", "keras", "keras-tuner", "numpy", "scikit-learn", "pytest")


class UnloadableSubmission:
    """Stands in for the sandbox when the submission could not even be read."""

    isolation = "none (the submission did not load)"

    def __init__(self, message: str) -> None:
        self.message = message

    def call(self, name, *args, **kwargs):
        raise SubmissionLoadError(self.message)

    get = probe = call

    def finish(self, grading) -> None:
        pass


def open_student(grading, *, rubric, seed: int):
    """Prepare the submission and its (not yet started) sandbox; record what was loaded.

    Returns:
        A `Sandbox`, or an `UnloadableSubmission` whose every call fails with the load error.
    """
    try:
        prepared = prepare_submission(grading.options["submission"])
    except SubmissionLoadError as exc:
        message = f"the submission could not be loaded: {exc}"
        grading.load = {"error": message}
        grading.isolation = UnloadableSubmission.isolation
        return UnloadableSubmission(message)
    grading.load = prepared.to_json()
    kind = DirectStudentSandbox if grading.options["isolation"] == "direct" else StudentSandbox
    sandbox = kind(prepared, seed=worker_seed(seed), config=sandbox_config(grading, rubric))
    grading.isolation = sandbox.isolation_description
    return sandbox


class StudentSandbox(Sandbox):
    """The sandbox as graders use it, plus what the end of a run collects from it."""

    def finish(self, grading) -> None:
        """Record the answers and the isolation that actually ran, then close the worker."""
        grading.answers = self.collect_answers()
        grading.isolation = self.isolation_description
        grading.worker = {"starts": self.starts, "load_s": round(self.load_seconds, 3),
                          "peak_rss_mb": round(self.peak_rss_bytes() / 2**20, 1)}
        if self.load_problems:  # what failed while the worker ran the submission's top level
            grading.load["problems"] = [*grading.load.get("problems", []), *self.load_problems]
        self.close()

    def collect_answers(self) -> dict:
        if "ANSWERS" not in self.names:
            return {}
        try:
            answers = self.get("ANSWERS", timeout=30)
        except SubmissionError as exc:
            return {"(error)": str(exc)}
        if not isinstance(answers, dict):
            return {"(error)": f"ANSWERS should be a dict of question id to text, got {type(answers).__name__}"}
        return {str(key): str(value)[:20000] for key, value in answers.items()}


class DirectStudentSandbox(DirectSandbox, StudentSandbox):
    """Benchmark only (see graders.harness.direct)."""


def sandbox_config(grading, rubric) -> SandboxConfig:
    from graders.harness.isolation import Limits

    def setting(key):
        return rubric.setting("sandbox", key)

    limits = Limits(
        cpu_seconds=int(setting("cpu_seconds")),
        processes=int(setting("processes")),
        scratch_bytes=int(setting("scratch_mib") * 2**20),
        memory_bytes=int(setting("memory_gib") * 2**30),
        file_bytes=int(setting("file_mib") * 2**20),
        open_files=int(setting("open_files")),
        threads=int(grading.options.get("threads") or setting("threads")),
    )
    return SandboxConfig(
        isolation="process" if grading.options["isolation"] == "direct" else grading.options["isolation"] or "auto",
        call_timeout_s=float(setting("call_timeout_s")),
        load_timeout_s=float(setting("load_timeout_s")),
        limits=limits,
        hidden_paths=tuple(PROJECT_ROOT / name for name in HIDDEN_FROM_WORKER),
    )


def worker_seed(seed: int) -> int:
    """The seed the worker sees: derived, so student code cannot learn a hidden run's seed."""
    return int.from_bytes(hashlib.sha256(f"hw3-worker-{seed}".encode()).digest()[:4], "big")


def build_result(grading, *, duration_s: float) -> GradingResult:
    """Group the recorded checks by question (q1 ... q7) into a GradingResult."""
    questions: dict[str, QuestionResult] = {}
    for check_id, check in grading.results.items():  # in the order the checks ran
        question = check_id.partition(".")[0]
        if question not in questions:
            questions[question] = QuestionResult(id=question, title=grading.rubric.title(question))
        questions[question].checks.append(check)
    return GradingResult(
        submission=str(grading.options["submission"]),
        seed=int(grading.options["seed"]),
        hidden=bool(grading.options["hidden"]),
        isolation=grading.isolation,
        dataset=grading.dataset or _dataset_description(grading),
        duration_s=duration_s,
        questions=[questions[q] for q in sorted(questions, key=_natural_key)],
        load=grading.load,
        answers=grading.answers,
        worker=grading.worker,
        versions=package_versions(),
    )


def write_outputs(grading, *, duration_s: float) -> GradingResult:
    """Write every output the run asked for: JSON, HTML report (always), Gradescope."""
    from reports.gradescope import write_gradescope
    from reports.render import write_report

    result = build_result(grading, duration_s=duration_s)
    options = grading.options
    if options["results_json"]:
        write_json(result, options["results_json"])
    try:
        write_report(result, report_path(options))
    except Exception:
        # A report is always written, even when ours is broken; then fail loudly.
        write_fallback_report(result, report_path(options))
        raise
    if options["gradescope"]:
        write_gradescope(result, options["gradescope"])
    return result


def write_fallback_report(result: GradingResult, path: Path) -> None:
    """A plain page with the scores, for when the real report cannot be rendered."""
    import html

    from graders.harness.results import write_text_atomically

    lines = [f"<li>{html.escape(q.id)}: {q.score:g} / {q.max_score:g}</li>" for q in result.questions]
    write_text_atomically(path, "<!DOCTYPE html><meta charset='utf-8'><title>HW3 report</title>"
                          f"<h1>HW3: {result.score:g} / {result.max_score:g}</h1><ul>{''.join(lines)}</ul>"
                          "<p>The full report could not be rendered (a grader bug); the results JSON has every check.</p>")


def report_path(options: dict) -> Path:
    if options["report"]:
        return Path(options["report"])
    return PROJECT_ROOT / "reports" / "out" / f"{Path(str(options['submission'])).stem or 'submission'}.html"


def summary_lines(grading) -> list[str]:
    result = build_result(grading, duration_s=0.0)
    lines = [f"{q.id}  {q.title:<48} {q.score:g}/{q.max_score:g}" for q in result.questions]
    lines.append(f"total {'':<48} {result.score:g}/{result.max_score:g}   (isolation: {result.isolation})")
    lines.append(f"report: {report_path(grading.options)}")
    return lines


def package_versions() -> dict:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _dataset_description(grading) -> dict:
    from graders.harness.mnist import load_mnist

    grading.dataset = load_mnist(seed=int(grading.options["seed"]), source=grading.options["mnist"]).describe()
    return grading.dataset


def _natural_key(check_id: str):
    import re

    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", check_id)]
