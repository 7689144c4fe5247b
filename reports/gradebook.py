"""gradebook.csv of a batch: one row per student, importable into an LMS."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from graders.core.results import GradingResult, write_text_atomically


def gradebook_row(student: str, result: GradingResult | None) -> dict:
    """One CSV row: id, total, max, status, then one column per question."""
    if result is None:
        return {"id": student, "total": 0, "max": 0, "status": "missing"}
    status = "error" if result.error else "not loaded" if (result.load or {}).get("error") else "graded"
    row = {"id": student, "total": result.score, "max": result.max_score, "status": status}
    for question in result.questions:
        row[question.id] = question.score
    return row


def write_gradebook(path: Path, rows: list[dict]) -> None:
    """gradebook.csv: fixed columns first, then q1..q7 in order."""
    questions = sorted({key for row in rows for key in row if re.fullmatch(r"q\d+", key)}, key=lambda q: int(q[1:]))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["id", "total", "max", "status", *questions], restval="")
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomically(path, buffer.getvalue())
