"""Grading results as dataclasses, and their JSON form (the contract of ../shared/DESIGN.md).

Reports (HTML, Gradescope) are rendered from these objects, each by its own serialiser.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

STATUSES = ("passed", "failed", "error", "skipped")  # every value a check's `status` can take


@dataclass
class CheckResult:
    """One rubric check: its outcome, the points it earned and a message for the student."""

    id: str
    status: str
    score: float
    max_score: float
    message: str = ""
    hidden: bool = False  # a hidden check: Gradescope shows it only after publishing
    details: dict = field(default_factory=dict)  # structured extras for reports (diagnoses, cells)
    duration_s: float = 0.0


@dataclass
class QuestionResult:
    id: str
    title: str
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def score(self) -> float:
        return sum(check.score for check in self.checks)

    @property
    def max_score(self) -> float:
        # Skipped checks (hidden ones in a student's run) are not part of the total.
        return sum(check.max_score for check in self.checks if check.status != "skipped")


@dataclass
class GradingResult:
    submission: str
    seed: int
    hidden: bool
    isolation: str
    dataset: dict
    duration_s: float
    questions: list[QuestionResult] = field(default_factory=list)
    load: dict = field(default_factory=dict)  # files, skipped statements, problems, conflicts
    answers: dict = field(default_factory=dict)  # free-text ANSWERS, for manual grading
    versions: dict = field(default_factory=dict)
    worker: dict = field(default_factory=dict)  # starts, load seconds, peak RSS of the sandbox worker

    @property
    def score(self) -> float:
        return sum(question.score for question in self.questions)

    @property
    def max_score(self) -> float:
        return sum(question.max_score for question in self.questions)


def to_json(result: GradingResult) -> dict:
    """The results JSON: the design's fields first, in the design's order, then the extras."""
    return {
        "submission": result.submission,
        "score": result.score,
        "max_score": result.max_score,
        "hidden": result.hidden,
        "seed": result.seed,
        "isolation": result.isolation,
        "dataset": result.dataset,
        "duration_s": round(result.duration_s, 3),
        "questions": [
            {
                "id": q.id,
                "title": q.title,
                "score": q.score,
                "max_score": q.max_score,
                "checks": [asdict(check) for check in q.checks],
            }
            for q in result.questions
        ],
        "load": result.load,
        "answers": result.answers,
        "versions": result.versions,
        "worker": result.worker,
    }


def from_json(data: dict) -> GradingResult:
    """Rebuild a GradingResult from `to_json`'s output (the computed totals are recomputed)."""
    questions = [
        QuestionResult(id=q["id"], title=q.get("title", q["id"]), checks=[CheckResult(**c) for c in q["checks"]])
        for q in data["questions"]
    ]
    fields = ("submission", "seed", "hidden", "isolation", "dataset", "duration_s")
    extras = {key: data.get(key, {}) for key in ("load", "answers", "versions", "worker")}
    return GradingResult(**{key: data[key] for key in fields}, questions=questions, **extras)


def write_json(result: GradingResult, path: Path | str) -> None:
    """Write the results JSON atomically, so a reader never sees half a file."""
    write_text_atomically(Path(path), json.dumps(to_json(result), indent=2, default=str) + "\n")


def write_text_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(text)
    os.replace(temporary, path)
