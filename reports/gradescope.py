"""Gradescope's autograder results.json, from a GradingResult.

Fields follow Gradescope's documented format: a total `score`, and `tests` each with
`name`, `score`, `max_score`, `output`, `status` and `visibility`. Hidden checks are
shown to students only after the grades are published.
"""

from __future__ import annotations

import json
from pathlib import Path

from graders.harness.results import GradingResult, write_text_atomically


def gradescope_json(result: GradingResult) -> dict:
    """Build the results.json document; hidden checks become `after_published`."""
    tests = []
    for question in result.questions:
        for check in question.checks:
            if check.status == "skipped":
                continue
            tests.append({
                "name": f"{check.id} ({question.title})",
                "score": check.score,
                "max_score": check.max_score,
                "status": "passed" if check.status == "passed" else "failed",
                "output": check.message,
                "visibility": "after_published" if check.hidden else "visible",
            })
    return {
        "score": result.score,
        "execution_time": round(result.duration_s),
        "output": f"Graded under {result.isolation} isolation, seed {result.seed}.",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def write_gradescope(result: GradingResult, path: Path | str) -> None:
    """Write Gradescope's results.json to `path`."""
    document = gradescope_json(result)
    write_text_atomically(Path(path), json.dumps(document, indent=2) + "\n")
