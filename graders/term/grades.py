"""A student's grade during the term: the autograded checks, the marks given by hand, overrides and the late rule.

    total = autograded + manual marks + overrides - late penalty   (never below 0)
    max   = autograded maximum + the manual items' points

Every part other than the checks carries its reason, so each place that shows a grade (the report,
the class page, the gradebook, Gradescope, the LMS files) can say why.
"""

from __future__ import annotations

from dataclasses import dataclass

from graders.core.results import GradingResult
from graders.term.marks import Marks, StudentMarks
from graders.term.rules import TermRules

GRADED, NOT_LOADED, GRADING_ERROR, MISSING = "graded", "not loaded", "error", "missing"
OVERRIDE, LATE = "override", "late"


@dataclass(frozen=True)
class ManualMark:
    """A manual item of one student: its points (None: not marked yet), its maximum and the TA's comment."""

    item: str
    points: float | None
    max_points: float
    comment: str = ""

    @property
    def reason(self) -> str:
        if self.points is None:
            return "not marked yet"
        return f"marked by hand {self.points:g}/{self.max_points:g}" + (f": {self.comment}" if self.comment else "")


@dataclass(frozen=True)
class Adjustment:
    """An override or the late penalty: the points it adds (negative: removes) and why."""

    kind: str  # OVERRIDE or LATE
    points: float
    reason: str


@dataclass(frozen=True)
class StudentGrade:
    student: str
    status: str  # GRADED, NOT_LOADED, GRADING_ERROR or MISSING (no results file)
    note: str  # why it is not graded, when it is not
    autograded: float
    autograded_max: float
    questions: dict[str, tuple[float, float]]  # question -> (score, max)
    checks: dict[str, tuple[float, float, str]]  # check id -> (score, max, status)
    manual: tuple[ManualMark, ...]
    adjustments: tuple[Adjustment, ...]
    total: float
    max: float

    @property
    def pending(self) -> list[str]:
        """The manual items not marked yet."""
        return [mark.item for mark in self.manual if mark.points is None]

    @property
    def manual_points(self) -> float:
        return sum(mark.points or 0.0 for mark in self.manual)

    def reasons(self, *, pending: bool = True) -> list[str]:
        """Each mark, override and penalty with its reason, one line each ("q1a: marked by hand 1.5/2: ..."),
        then (with `pending`) the items not marked yet."""
        lines = [f"{mark.item}: {mark.reason}" for mark in self.manual if mark.points is not None]
        lines += [f"{a.kind} {a.points:+g}: {a.reason}" for a in self.adjustments]
        if pending and self.pending:
            lines.append(f"not marked yet: {', '.join(self.pending)}")
        return lines


def student_grade(student: str, result: GradingResult | None, marks: StudentMarks, rules: TermRules) -> StudentGrade:
    """One student's grade from the judged result (None: no results file) and the TA's marks.

    Raises:
        ValueError: the submission time and the due date do not both have a UTC offset, or both none.
    """
    status, note = _status(result)
    questions = {q.id: (float(q.score), float(q.max_score)) for q in result.questions} if result else {}
    checks = {c.id: (float(c.score), float(c.max_score), c.status) for q in (result.questions if result else [])
              for c in q.checks}
    autograded, autograded_max = (float(result.score), float(result.max_score)) if result else (0.0, 0.0)
    manual = tuple(ManualMark(item, marks.manual[item].points if item in marks.manual else None, top,
                              marks.manual[item].comment if item in marks.manual else "")
                   for item, top in rules.manual.items())
    top = autograded_max + rules.manual_max
    adjustments = [Adjustment(OVERRIDE, o.points, o.reason) for o in marks.overrides]
    if rules.late and marks.submitted is not None:
        penalty = rules.late.penalty(marks.submitted, max_points=top, extension_days=marks.extension_days,
                                     due=marks.due)
        if penalty is not None:
            adjustments.append(Adjustment(LATE, -penalty.points, penalty.reason))
    earned = autograded + sum(m.points or 0.0 for m in manual) + sum(a.points for a in adjustments)
    return StudentGrade(student, status, note, autograded, autograded_max, questions, checks, manual,
                        tuple(adjustments), round(max(0.0, earned), 4), top)


def class_grades(results: list[tuple[str, GradingResult | None]], marks: Marks, rules: TermRules) -> list[StudentGrade]:
    """Every student's grade, in the order of `results`.

    Raises:
        ValueError: as `student_grade`, naming the student.
    """
    grades = []
    for student, result in results:
        try:
            grades.append(student_grade(student, result, marks.of(student), rules))
        except ValueError as error:
            raise ValueError(f"student {student}: {error}") from None
    return grades


def check_times(marks: Marks, rules: TermRules) -> None:
    """Refuse, before anything is graded or written, submission times the late rule cannot compare.

    Raises:
        ValueError: naming the student whose submission time and due date do not both have a UTC offset.
    """
    for student, given in marks.students.items():
        if rules.late is not None and given.submitted is not None:
            try:
                rules.late.penalty(given.submitted, max_points=1.0, extension_days=given.extension_days, due=given.due)
            except ValueError as error:
                raise ValueError(f"{marks.path} [students.{student}]: {error}") from None


def _status(result: GradingResult | None) -> tuple[str, str]:
    if result is None:
        return MISSING, "no results file"
    load_error = (result.load or {}).get("error")
    if result.error:
        return GRADING_ERROR, result.error
    if load_error:
        return NOT_LOADED, str(load_error)
    return GRADED, ""
