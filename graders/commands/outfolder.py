"""A batch's output folder (OUT): what the class was graded with, and the students' stored results.

    OUT/batch.json                  how the class is graded: its folder, rubric, questions, hidden, MNIST,
                                    isolation (a rescore, a recheck and a later batch read it)
    OUT/seed.json                   the class's seed (batch.class_seed), readable by its owner only
    OUT/students/<id>/results.json  each student's judged result (with its observations and the rubric
                                    it was judged under), report.html, gradescope.json, meta.json
    OUT/marks.toml                  the marks a TA gives by hand (graders/term/marks.py)
    OUT/grades.json, OUT/history/   the grades as published, and what each run changed (graders/term/history.py)
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from graders.core.results import GradingResult, read_json, write_json, write_text_atomically
from graders.term.marks import MARKS_FILE

SETTINGS_FILE = "batch.json"
STUDENTS = "students"


@dataclass(frozen=True)
class ClassSettings:
    """What every grading of the class shares, besides the seed (seed.json) and the grader's code."""

    class_dir: str
    rubric: str | None = None  # None: graders/rubric.toml
    questions: tuple[str, ...] = ()
    hidden: bool = False
    mnist: str | None = None
    isolation: str = "auto"


def read_settings(out: Path) -> ClassSettings | None:
    """The settings a batch recorded in `out`, or None (no batch there yet, or an older one)."""
    try:
        data = json.loads((Path(out) / SETTINGS_FILE).read_text(encoding="utf-8"))
        return ClassSettings(**{**data, "questions": tuple(data.get("questions") or ())})
    except (OSError, ValueError, TypeError):
        return None


def write_settings(out: Path, settings: ClassSettings) -> None:
    write_text_atomically(Path(out) / SETTINGS_FILE, json.dumps(asdict(settings), indent=2) + "\n")


def class_rubric(out: Path, given: str | None) -> str | None:
    """The rubric a run judges the class under: the one given, else the one the class was last judged under."""
    if given:
        return str(Path(given).resolve())
    settings = read_settings(out)
    return settings.rubric if settings else None


def marks_path(out: Path, given: str | None) -> Path:
    """The marks file: the one given, else OUT/marks.toml (which may not exist: then there are no marks)."""
    return Path(given) if given else Path(out) / MARKS_FILE


def student_folder(out: Path, student: str) -> Path:
    return Path(out) / STUDENTS / student


def student_ids(out: Path) -> list[str]:
    """The students with a folder in OUT/students, in order."""
    folder = Path(out) / STUDENTS
    return sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []


def stored_results(out: Path, students: list[str] | None = None) -> list[tuple[str, GradingResult | None]]:
    """(student, its stored result or None) for `students` (default: every student folder in OUT)."""
    return [(student, read_json(student_folder(out, student) / "results.json"))
            for student in (student_ids(out) if students is None else students)]


def store_result(out: Path, student: str, result: GradingResult) -> None:
    write_json(result, student_folder(out, student) / "results.json", private=True)  # it records the class's seed
