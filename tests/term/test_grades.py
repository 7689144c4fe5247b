"""A student's grade: autograded + manual marks + overrides - late penalty, never below 0, each part with its reason."""

from datetime import datetime, timedelta, timezone

from graders.core.rubric import Rubric
from graders.term.grades import class_grades, student_grade
from graders.term.marks import Mark, Marks, Override, StudentMarks
from graders.term.rules import LateRule, TermRules
from tests.term.synthetic import result_of

DUE = datetime(2025, 3, 14, 23, 59, tzinfo=timezone.utc)
RULES = TermRules({"q1a": 2.0, "q4a": 2.0}, LateRule(DUE, penalty_per_day=10, cap=30))


def test_every_part_counts_with_its_reason():
    result = result_of("typical_mistakes", Rubric.load())  # 17 / 24
    marks = StudentMarks({"q1a": Mark(1.5, "names the trade-off")}, (Override(2, "regrade request"),),
                         submitted=DUE + timedelta(hours=30))
    grade = student_grade("1002", result, marks, RULES)
    assert (grade.autograded, grade.autograded_max, grade.max) == (17, 24, 28)
    assert grade.total == 14.9  # 17 + 1.5 + 2 - 5.6: two started days late, 10 % of 28 each
    assert grade.pending == ["q4a"]
    assert grade.reasons() == ["q1a: marked by hand 1.5/2: names the trade-off", "override +2: regrade request",
                               "late -5.6: submitted 2025-03-16 05:59+00:00, 2 days after the due date "
                               "2025-03-14 23:59+00:00: -20 % of 28", "not marked yet: q4a"]


def test_a_grade_never_goes_below_zero_and_a_missing_result_is_missing():
    empty = result_of("placeholder_answers", Rubric.load())
    grade = student_grade("1003", empty, StudentMarks(overrides=(Override(-5, "cheating"),)), RULES)
    assert grade.total == 0 and grade.status == "graded"
    missing = class_grades([("1009", None)], Marks(), RULES)[0]
    assert (missing.status, missing.total, missing.max) == ("missing", 0, 4)
