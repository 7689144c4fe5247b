"""What the report and the class page show of a grade's term parts: marks given by hand, overrides, the late
penalty, each with its reason, and the changes of the grade (when, by which run, why).

Plain dicts for the templates (`term.html.j2` in the report, `index.html.j2` on the class page); every
string is the TA's or the rubric's, escaped by Jinja's autoescaping like the rest.
"""

from __future__ import annotations

from graders.term.changes import ChangeSet, StudentChange
from graders.term.grades import StudentGrade


def report_term_view(grade: StudentGrade, changes: list[ChangeSet] | None = None) -> dict:
    """The report's grade section: the total with its parts, and the student's changes, newest first."""
    return {
        "total": grade.total, "max": grade.max, "autograded": grade.autograded, "autograded_max": grade.autograded_max,
        "percent": round(100 * grade.total / grade.max, 1) if grade.max else 0.0,
        "manual": [{"item": m.item, "points": "–" if m.points is None else f"{m.points:g}", "max": m.max_points,
                    "comment": m.comment, "marked": m.points is not None} for m in grade.manual],
        "marks": {m.item: {"points": m.points, "max": m.max_points, "comment": m.comment} for m in grade.manual},
        "adjustments": [{"kind": a.kind, "points": f"{a.points:+g}", "reason": a.reason} for a in grade.adjustments],
        "pending": grade.pending,
        "changes": [change_view(run, change) for run in reversed(changes or [])
                    if (change := run.of(grade.student)) is not None],
    }


def change_view(run: ChangeSet, change: StudentChange) -> dict:
    """One run's change of one student: when, by what, the total before and after, and each item with why."""
    return {"when": _when(run.when), "command": run.command, "before": _total(change.total_before, change.max_before),
            "after": _total(change.total_after, change.max_after),
            "parts": [{"item": i.item, "before": i.before, "after": i.after, "why": i.why} for i in change.items]}


def changes_view(run: ChangeSet | None) -> dict | None:
    """The class page's last change set: when, by which command, the rubric lines changed, each student changed."""
    if run is None:
        return None
    return {"when": _when(run.when), "command": run.command, "rubric_before": run.rubric_before[:12],
            "rubric_after": run.rubric_after[:12], "rubric_lines": list(run.rubric_lines),
            "students": [{"id": s.student, **change_view(run, s)} for s in run.students]}


def _total(total: float | None, top: float | None) -> str:
    return "–" if total is None else f"{total:g} / {top or 0:g}"


def _when(when: str) -> str:
    return when.replace("T", " ")[:16]
