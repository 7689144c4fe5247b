"""The class page of a batch: the students first, each question's mean and median, what the class got wrong.

What a TA reads before the next lecture: the students table (sortable without any script: one
pre-sorted copy per column, shown with CSS :target; each total the grade, with the marks given by
hand, overrides and late penalties and their reasons), the last run's changes (who changed and why),
the questions' mean and median, the most common
diagnosed mistakes with who made them, the checks' failure rates (grader errors counted apart from
student failures), and the score distribution.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from pathlib import Path

from graders.core.results import (
    ERROR,
    FAILED,
    NOT_ATTEMPTED,
    NOT_GRADED,
    SKIPPED,
    CheckResult,
    GradingResult,
    default_title,
    write_text_atomically,
)
from graders.term.changes import ChangeSet
from graders.term.grades import StudentGrade
from reports.render import _ENVIRONMENT
from reports.term import changes_view

BINS = 10
Students = list[tuple[str, GradingResult | None]]  # (student id, result or None when none was written)


def index_view(students: Students, *, similarity=None, grades: list[StudentGrade] | None = None,
               changes: ChangeSet | None = None) -> dict:
    """What index.html shows, from (student id, result or None) pairs.

    Args:
        similarity: the class's code-similarity view (reports/similarity.py), or None.
        grades: the students' grades during the term (graders.term.grades): their totals replace the autograded
            ones, and their marks, overrides and penalties are listed with their reasons.
        changes: the last run's change set (graders.term.changes), shown with the rubric lines it changed.
    """
    by_student = {grade.student: grade for grade in grades or []}
    rows = [_with_grade(_student_row(student, result), by_student.get(student)) for student, result in students]
    questions = sorted({q for row in rows for q in row["questions"]}, key=lambda q: int(q[1:]) if q[1:].isdigit() else 0)
    return {"students": rows, "questions": questions, "orders": _orders(rows, questions),
            "question_stats": _question_stats(rows, questions), "mistakes": common_mistakes(students),
            "checks": check_rates(students), "histogram": histogram(rows), "similarity": similarity,
            "changes": changes_view(changes)}


def _with_grade(row: dict, grade: StudentGrade | None) -> dict:
    """The row's total made the grade (marks, overrides and penalty included), with their reasons as notes."""
    if grade is None:
        return {**row, "notes": []}
    return {**row, "score": grade.total, "max": grade.max, "notes": grade.reasons()}


def _student_row(student: str, result: GradingResult | None) -> dict:
    if result is None:
        return {"id": student, "score": 0.0, "max": 0.0, "status": "missing", "note": "", "questions": {},
                "report": f"students/{student}/report.html"}
    load_error = (result.load or {}).get("error")
    status = "error" if result.error else "not loaded" if load_error else "graded"
    return {"id": student, "score": float(result.score), "max": float(result.max_score),
            "status": status, "note": result.error or load_error or "",
            "questions": {q.id: (float(q.score), float(q.max_score)) for q in result.questions},
            "report": f"students/{student}/report.html"}


def _orders(rows: list[dict], questions: list[str]) -> list[dict]:
    """One pre-sorted copy of the students per sortable column (the id order is the default)."""
    def by(column):
        if column == "total":
            return sorted(rows, key=lambda r: (-r["score"], r["id"]))
        return sorted(rows, key=lambda r: (-r["questions"].get(column, (0.0, 0.0))[0], r["id"]))

    orders = [{"key": column, "label": column, "rows": by(column)} for column in ("total", *questions)]
    return orders + [{"key": "id", "label": "id", "rows": sorted(rows, key=lambda r: r["id"])}]


def _question_stats(rows: list[dict], questions: list[str]) -> list[dict]:
    stats = []
    for question in questions:
        scores = [row["questions"][question] for row in rows if question in row["questions"]]
        fractions = [score / top for score, top in scores if top > 0]
        top = max((t for _, t in scores), default=0.0)
        stats.append({"id": question, "n": len(scores), "max": top,
                      "mean": statistics.fmean(s for s, _ in scores) if scores else 0.0,
                      "median": statistics.median(s for s, _ in scores) if scores else 0.0,
                      "mean_percent": 100 * statistics.fmean(fractions) if fractions else 0.0})
    return stats


def common_mistakes(students: Students) -> list[dict]:
    """Each diagnosed mistake (else each failed check) with the number of students and who they are.

    A student who left a question unanswered is counted under "not attempted" for it, once, not
    under every check of the question.
    """
    who: dict[tuple[str, str], set] = defaultdict(set)
    for student, result in students:
        for question in result.questions if result else []:
            for check in question.checks:
                if check.status != FAILED or check.category == NOT_GRADED:
                    continue
                who[(question.id, _mistake_of(check))].add(student)
    mistakes = [{"question": question, "mistake": mistake, "count": len(ids), "students": sorted(ids)}
                for (question, mistake), ids in who.items()]
    return sorted(mistakes, key=lambda m: (-m["count"], m["question"], m["mistake"]))


def _mistake_of(check: CheckResult) -> str:
    if check.category == NOT_ATTEMPTED:
        return NOT_ATTEMPTED
    diagnosis = check.shown_details.get("diagnosis")
    if isinstance(diagnosis, list):
        diagnosis = "; ".join(map(str, diagnosis))
    return str(diagnosis) if diagnosis else f"failed: {check.title or default_title(check.id)}"


def check_rates(students: Students) -> list[dict]:
    """Per check: how many students failed it, and how many hit a grader error on it (counted apart)."""
    failed, errors, attempts, titles = Counter(), Counter(), Counter(), {}
    for _, result in students:
        for question in result.questions if result else []:
            for check in question.checks:
                if check.status == SKIPPED:
                    continue
                attempts[check.id] += 1
                failed[check.id] += check.status == FAILED
                errors[check.id] += check.status == ERROR
                titles[check.id] = check.title or default_title(check.id)
    rates = [{"id": c, "title": titles[c], "failed": failed[c], "errors": errors[c], "of": attempts[c],
              "rate": failed[c] / attempts[c]} for c in attempts]
    return sorted(rates, key=lambda item: (-item["errors"], -item["rate"], item["id"]))


def histogram(rows: list[dict]) -> list[dict]:
    """Students per tenth of the maximum score, as bars of an inline SVG (no script)."""
    counts = [0] * BINS
    for row in rows:
        fraction = row["score"] / row["max"] if row["max"] else 0.0
        counts[min(BINS - 1, int(fraction * BINS))] += 1
    tallest = max(counts) or 1
    return [{"label": f"{10 * i}–{10 * (i + 1)}%", "count": count, "height": 150 * count / tallest}
            for i, count in enumerate(counts)]


def write_index(path: Path, students: Students, *, similarity=None, grades: list[StudentGrade] | None = None,
                changes: ChangeSet | None = None) -> None:
    """Render index.html for a batch's output folder (see `index_view` for the arguments)."""
    view = index_view(students, similarity=similarity, grades=grades, changes=changes)
    html = _ENVIRONMENT.get_template("index.html.j2").render(v=view)
    write_text_atomically(Path(path), html)
