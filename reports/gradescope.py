"""Gradescope's autograder results.json, from a GradingResult.

Fields follow Gradescope's documented format (gradescope-autograders.readthedocs.io, "Autograder
Specifications"): a total `score`, and `tests` each with `name`, `score`, `max_score`, `status`,
`output` and `visibility`. Hidden checks are shown to students only after the grades are
published. Every output is declared plain text: Gradescope renders the top-level output as
HTML by default, and a student's text must not become markup there either.
"""

from __future__ import annotations

import json
from pathlib import Path

from graders.core.results import GradingResult, default_title, write_text_atomically
from graders.term.grades import LATE, StudentGrade
from reports.details import check_details

MAX_OUTPUT_CHARS = 20_000


def gradescope_json(result: GradingResult, grade: StudentGrade | None = None) -> dict:
    """Build the results.json document; hidden checks become `after_published`.

    Skipped checks (hidden ones in a student's own run) are left out, as they are left out of the total.

    Args:
        grade: the student's grade during the term (graders.term.grades): its marks given by hand,
            overrides and late penalty become tests of their own, each with its reason, and the
            document's score is its total.
    """
    tests = []
    for question in result.questions:
        for check in question.checks:
            if check.status == "skipped":
                continue
            tests.append({
                "name": f"{question.id} · {check.title or default_title(check.id)} [{check.id}]",
                "score": check.score,
                "max_score": check.max_score,
                "status": "passed" if check.status == "passed" else "failed",
                "output": _cap(check_output(check)),
                "tags": [question.id],
                "visibility": "after_published" if check.hidden else "visible",
            })
    tests += term_tests(grade) if grade else []
    return {
        "score": grade.total if grade else result.score,
        "execution_time": round(result.duration_s),
        "output": _cap(submission_output(result)),
        "output_format": "text",
        "test_output_format": "text",
        "test_name_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def term_tests(grade: StudentGrade) -> list[dict]:
    """The marks given by hand (out of their points), overrides and the late penalty (out of 0), with their reasons."""
    tests = [{"name": f"{mark.item} · marked by hand [{mark.item}]", "score": mark.points or 0.0,
              "max_score": mark.max_points, "status": "passed" if mark.points == mark.max_points else "failed",
              "output": _cap(mark.reason), "tags": ["manual"], "visibility": "visible"} for mark in grade.manual]
    tests += [{"name": "Late penalty" if a.kind == LATE else "Adjustment", "score": a.points, "max_score": 0.0,
               "output": _cap(a.reason), "tags": [a.kind], "visibility": "visible"} for a in grade.adjustments]
    return tests


def check_output(check) -> str:
    """The check's message, then the details a text box can show: diagnosis and differences."""
    details = check_details(check.id, check.shown_details)
    lines = [check.message] if check.message else []
    lines += [f"Likely mistake: {diagnosis}" for diagnosis in details.diagnoses]
    lines += [f"- {difference}" for difference in details.differences]
    return "\n".join(lines)


def submission_output(result: GradingResult) -> str:
    """What concerns the whole submission: how it ran, and what of it did not load or run."""
    # A hidden run's seed is the TA's secret: the student-visible output never shows it.
    seed = "a secret seed" if result.hidden else f"seed {result.seed}"
    lines = [f"Graded under {result.isolation} isolation, {seed}."]
    load = result.load or {}
    if load.get("error"):
        lines.append(str(load["error"]))
    lines += [f"Did not load: {p.get('origin', '')}: {p.get('message', '')}" for p in load.get("problems") or []]
    skipped = load.get("skipped") or []
    if skipped:
        lines.append(f"{len(skipped)} notebook statement(s) were not run (top-level calls, loops, magics); "
                     "the HTML report lists them.")
    return "\n".join(lines)


def _cap(text: str) -> str:
    return text if len(text) <= MAX_OUTPUT_CHARS else text[:MAX_OUTPUT_CHARS] + "\n… (cut; see the HTML report)"


def write_gradescope(result: GradingResult, path: Path | str, grade: StudentGrade | None = None) -> None:
    """Write Gradescope's results.json to `path` (with the term's parts of `grade`, if given)."""
    document = gradescope_json(result, grade)
    write_text_atomically(Path(path), json.dumps(document, indent=2, default=str) + "\n")
