"""The differences between two runs: per student, the total before and after, and each item that changed with why."""

import copy

from graders.core.rubric import Rubric
from graders.term.changes import Rerun, class_state, differences, rubric_lines
from graders.term.grades import class_grades
from graders.term.marks import Mark, Marks, Override, StudentMarks
from graders.term.rules import term_rules
from tests.term.synthetic import result_of


def state(rubric: Rubric, marks: Marks = Marks(), samples=("reference", "typical_mistakes")) -> dict:
    results = [(f"100{n}", result_of(sample, rubric)) for n, sample in enumerate(samples, start=1)]
    grades = class_grades(results, marks, term_rules(rubric.data))
    return class_state(grades, rubric_data=rubric.data, rubric_sha256=rubric.sha256, rubric_path="r.toml",
                       marks_sha256=marks.sha256, command="test", when="2025-03-20T10:00:00+01:00")


def changed_rubric(section: str, key: str, value) -> Rubric:
    """The default rubric with `[section] key = value` ("q5.checks", "conv.valid", 3)."""
    data = copy.deepcopy(Rubric.load().data)
    table = data
    for name in section.split("."):
        table = table[name]
    table[key] = value
    return Rubric(data, path="changed.toml")


def test_a_points_change_names_the_rubric_line_for_each_student_it_changed():
    new = changed_rubric("q5.checks", "conv.valid", 3)
    changes = differences(state(Rubric.load()), state(new))
    assert changes.rubric_lines == ('[q5.checks] "conv.valid": 1 -> 3',)
    passed, failed = changes.students
    assert (passed.student, passed.total_before, passed.total_after) == ("1001", 24, 26)
    assert [(i.item, i.before, i.after, i.why) for i in passed.items] == [
        ("q5.conv.valid", "1/1 passed", "3/3 passed", '[q5.checks] "conv.valid": 1 -> 3')]
    assert (failed.total_before, failed.total_after, failed.max_after) == (17, 17, 32)  # only its maximum moved


def test_a_hidden_flag_and_a_judged_setting_are_named_too():
    hidden = changed_rubric("q4.checks", "dense", {"points": 1, "hidden": True})
    assert differences(state(Rubric.load()), state(hidden)).rubric_lines == (
        "[q4.checks] dense: 1 -> { points = 1, hidden = true }",)
    assert rubric_lines(Rubric.load().data, changed_rubric("q6", "atol", 1e-3).data) == ["[q6] atol: 0.0003 -> 0.001"]


def test_a_check_run_again_says_so_and_nothing_changed_is_no_change():
    before = state(Rubric.load())
    after = copy.deepcopy(before)
    after["students"]["1002"]["items"]["q4.conv2d"] = [1.0, 1.0, "passed"]
    after["students"]["1002"]["total"] = 18.0
    rerun = {"1002": Rerun("re-run", frozenset({"q4.conv2d"}), {"q4.conv2d": "re-run (--recheck)"})}
    changes = differences(before, after, reruns=rerun)
    assert [(s.student, [(i.item, i.why) for i in s.items]) for s in changes.students] == [
        ("1002", [("q4.conv2d", "re-run (--recheck)")])]
    assert differences(before, copy.deepcopy(before)).students == ()


def test_marks_overrides_and_new_students_carry_the_tas_words():
    marks = Marks({"1002": StudentMarks({"q1a": Mark(1.5, "names the trade-off")},
                                        (Override(1, "regrade request accepted"),))})
    before = state(Rubric.load(), samples=("reference",))
    (new,) = differences(before, state(Rubric.load(), marks)).students
    assert (new.student, new.total_before, new.total_after, new.items[0].why) == ("1002", None, 19.5, "first graded")
    marked = differences(state(Rubric.load()), state(Rubric.load(), marks)).students[0]
    assert [(i.item, i.before, i.after, i.why) for i in marked.items] == [
        ("override", "-", "+1", "regrade request accepted"),
        ("q1a", "not marked/2", "1.5/2", "marked by hand: names the trade-off")]
