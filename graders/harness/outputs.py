"""What a grading run leaves: its result, the JSON, HTML report and Gradescope files, the terminal's
summary and the exit code (README, "Exit codes")."""

from __future__ import annotations

import importlib.metadata
import platform
from pathlib import Path

from graders.core.exits import EXIT_ALL_PASSED, EXIT_GRADER_ERROR, EXIT_NOT_LOADED, EXIT_SOME_FAILED
from graders.core.options import default_report_path
from graders.core.results import ERROR, FAILED, GradingResult, QuestionResult, write_json
from graders.harness.session import GradingSession, natural_key
from graders.harness.summary import summary_lines as summary_of
from graders.questions import BY_ID
from reports.gradescope import write_gradescope
from reports.render import write_fallback_report, write_report

PACKAGES = ("tensorflow", "keras", "keras-tuner", "numpy", "scikit-learn", "pytest")


def build_result(session: GradingSession, *, duration_s: float) -> GradingResult:
    """Group the recorded checks by question (q1 ... q7) into a GradingResult."""
    questions: dict[str, QuestionResult] = {}
    for check_id, check in session.results.items():  # in the order the checks ran
        question = check_id.partition(".")[0]
        if question not in questions:
            declared = BY_ID[question].title if question in BY_ID else None
            questions[question] = QuestionResult(id=question, title=session.rubric.title(question, default=declared))
        questions[question].checks.append(check)
    return GradingResult(
        submission=str(session.options.submission), seed=session.seed, hidden=session.options.hidden,
        isolation=session.isolation, dataset=session.dataset_description(), duration_s=duration_s,
        questions=[questions[q] for q in sorted(questions, key=natural_key)], load=session.load,
        answers=session.answers, worker=session.worker, versions=package_versions(),
        graded_questions=session.graded_questions(), partial=session.is_partial(),
        rubric=session.rubric.snapshot() if session.rubric else {}, kit=session.kit_description())


def report_path(session: GradingSession) -> Path:
    if session.options.report_path:
        return Path(session.options.report_path)
    partial = tuple(session.graded_questions()) if session.is_partial() else ()
    return default_report_path(session.options.submission, partial_questions=partial)


def write_outputs(session: GradingSession, *, duration_s: float) -> GradingResult:
    """Write every output the run asked for: JSON, HTML report (always), Gradescope."""
    result = build_result(session, duration_s=duration_s)
    result.profile = session.finished_profile()
    if session.options.json_path:
        write_json(result, session.options.json_path)
    try:
        write_report(result, report_path(session))
    except Exception:
        write_fallback_report(result, report_path(session))  # a report is always written; then fail loudly
        raise
    if session.options.gradescope_path:
        write_gradescope(result, session.options.gradescope_path)
    return result


def exit_code(session: GradingSession, pytest_status: int) -> int:
    """README "Exit codes": all passed, some failed, not loaded, grader error (pytest's own kept)."""
    statuses = {check.status for check in session.results.values()}
    if session.load_error:
        return EXIT_NOT_LOADED
    if ERROR in statuses or pytest_status not in (0, 1):
        return pytest_status if pytest_status not in (0, 1) else EXIT_GRADER_ERROR
    return EXIT_SOME_FAILED if FAILED in statuses else EXIT_ALL_PASSED


def summary_lines(session: GradingSession) -> list[str]:
    """The terminal's HW3 section (see summary.py); a fresh secret seed is said to be one, never shown."""
    seed_note = "a fresh secret seed, recorded in the results JSON only" if session.seed_source == "fresh" else ""
    return summary_of(build_result(session, duration_s=0.0), report=report_path(session), seed_note=seed_note)


def package_versions() -> dict:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions
