"""gradebook.csv of a batch: one row per student, with the grade's parts and their reasons.

Columns: id, total, max, status, then each question's autograded points (q1..q7), each manual item's
points (empty: not marked yet), the overrides' sum, the late penalty, and the notes: every mark,
override and penalty with its reason (graders.term.grades.StudentGrade.reasons). `total` is the grade:
autograded + manual + overrides - late penalty; `max` the autograded maximum plus the manual items'.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from graders.core.results import write_text_atomically
from graders.term.grades import LATE, OVERRIDE, StudentGrade

FIXED = ["id", "total", "max", "status"]
TAIL = ["override", "late", "notes"]


def gradebook_row(grade: StudentGrade) -> dict:
    """One CSV row of a student's grade."""
    row = {"id": grade.student, "total": _number(grade.total), "max": _number(grade.max), "status": grade.status}
    row.update({question: _number(score) for question, (score, _) in grade.questions.items()})
    row.update({mark.item: "" if mark.points is None else _number(mark.points) for mark in grade.manual})
    for kind in (OVERRIDE, LATE):
        chosen = [a.points for a in grade.adjustments if a.kind == kind]
        row[kind] = _number(sum(chosen)) if chosen else ""
    row["notes"] = "; ".join(grade.reasons())
    return row


def gradebook_text(grades: list[StudentGrade]) -> str:
    """gradebook.csv's text: fixed columns, then q1..q7 in order, the manual items, override, late, notes."""
    rows = [gradebook_row(grade) for grade in grades]
    questions = sorted({key for row in rows for key in row if re.fullmatch(r"q\d+", key)}, key=lambda q: int(q[1:]))
    manual = list(dict.fromkeys(mark.item for grade in grades for mark in grade.manual))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=[*FIXED, *questions, *manual, *TAIL], restval="")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def write_gradebook(path: Path, grades: list[StudentGrade]) -> None:
    """Write gradebook.csv."""
    write_text_atomically(path, gradebook_text(grades))


def _number(value: float) -> str:
    return f"{round(value, 4):g}"
