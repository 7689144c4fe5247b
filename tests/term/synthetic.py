"""A class of stored results made from the samples' goldens (their check ids and statuses), for tests that
need a graded OUT without grading: publishing, rescoring under other points, marks, history and exports.

Each check scores its rubric points when its golden says passed. The checks carry no observations, so
`rejudge` keeps their verdicts and applies the new points, as it does for a check that observes nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

from graders.commands.outfolder import ClassSettings, write_settings
from graders.core.isolation import Isolation
from graders.core.results import CheckResult, GradingResult, QuestionResult, default_title, write_json
from graders.core.rubric import Rubric
from tests.grading import load_golden

CLASS = {"1001": "reference", "1002": "typical_mistakes", "1003": "placeholder_answers",
         "1004": "q4_q5_numpy_and_lists"}
ANSWERS = {"q1a": "Hyperband stops weak trials early.", "q4a": "An LSTM has four gates.", "q6c": "Moving averages."}


def result_of(sample: str, rubric: Rubric, *, questions=("q4", "q5")) -> GradingResult:
    """The result `sample`'s goldens describe, judged under `rubric` (its points), with the rubric recorded."""
    goldens, _ = load_golden(sample)
    parts = []
    for question in questions:
        checks = []
        for check_id, status in goldens[question]["checks"].items():
            rule = rubric.rule(check_id)
            checks.append(CheckResult(check_id, status, rule.points if status == "passed" else 0.0, rule.points,
                                      "" if status == "passed" else f"{check_id} is wrong",
                                      title=default_title(check_id)))
        parts.append(QuestionResult(question, question, checks))
    return GradingResult(submission=sample, seed=1234, hidden=False, isolation=Isolation.parse("bubblewrap"),
                         dataset={}, duration_s=1.0, questions=parts, answers=dict(ANSWERS),
                         graded_questions=list(questions), partial=True, rubric=rubric.snapshot())


def make_out(out: Path, rubric: Rubric | None = None, students: dict[str, str] = CLASS) -> Path:
    """OUT with every student's stored result and the batch's settings; nothing published yet."""
    rubric = rubric or Rubric.load()
    for student, sample in students.items():
        folder = out / "students" / student
        write_json(result_of(sample, rubric), folder / "results.json")
        (folder / "meta.json").write_text(json.dumps({"content": sample, "grader": "test"}))
    write_settings(out, ClassSettings(class_dir=str(out / "class"), rubric=str(rubric.path), questions=("q4", "q5")))
    return out


def rubric_with(path: Path, text: str) -> Path:
    """The default rubric with `text` appended (a section of its own) written to `path`."""
    path.write_text(Rubric.load().path.read_text(encoding="utf-8") + "\n" + text, encoding="utf-8")
    return path
