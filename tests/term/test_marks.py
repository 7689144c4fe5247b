"""OUT/marks.toml: the marks a TA gives by hand; every problem is named at once, nothing dropped silently."""

from datetime import datetime

import pytest

from graders.term.marks import Mark, MarksError, Override, read_marks

STUDENTS = {"1001", "1002"}
MANUAL = {"q1a": 2.0, "q4a": 2.0}


def marks_file(tmp_path, text):
    path = tmp_path / "marks.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_marks_overrides_times_and_extensions_are_read(tmp_path):
    marks = read_marks(marks_file(tmp_path, """
[students.1001]
q1a = { points = 1.5, comment = "names the trade-off" }
q4a = 2
overrides = [{ points = -1, reason = "plot copied from the lecture notes" }]
submitted = 2025-03-15T09:30:00+01:00
extension_days = 1
"""), students=STUDENTS, manual=MANUAL)
    one = marks.of("1001")
    assert one.manual == {"q1a": Mark(1.5, "names the trade-off"), "q4a": Mark(2.0)}
    assert one.overrides == (Override(-1.0, "plot copied from the lecture notes"),)
    assert one.submitted == datetime.fromisoformat("2025-03-15T09:30:00+01:00") and one.extension_days == 1
    assert marks.of("1002").manual == {} and len(marks.sha256) == 64


def test_no_file_means_no_marks(tmp_path):
    assert read_marks(tmp_path / "marks.toml", students=STUDENTS, manual=MANUAL).students == {}


def test_every_problem_is_named_with_its_student_and_key(tmp_path):
    with pytest.raises(MarksError) as raised:
        read_marks(marks_file(tmp_path, """
[students.1009]
q1a = 1
[students.1001]
q9z = 1
q4a = 3
overrides = [{ points = 1 }, { points = 0, reason = "nothing" }]
submitted = "yesterday"
[students.1002]
extension_days = 1
due = 2025-03-20T23:59:00+01:00
[grades]
"""), students=STUDENTS, manual=MANUAL)
    message = str(raised.value)
    assert "8 problems" in message
    for expected in ("[students.1009]: no student '1009' in this class",
                     "[students.1001] q9z: not a manual item of the rubric ([manual]: q1a, q4a)",
                     "[students.1001] q4a: points must be between 0 and 2",
                     "[students.1001] overrides[0]: an override needs a reason",
                     "[students.1001] overrides[1]: points must be a number other than 0",
                     "[students.1001] submitted: must be a TOML date-time",
                     "[students.1002]: give extension_days or due, not both",
                     "[grades]: unknown table"):
        assert expected in message


def test_a_file_that_is_not_toml_says_so(tmp_path):
    with pytest.raises(MarksError, match="is not valid TOML"):
        read_marks(marks_file(tmp_path, "[students.1001\nq1a = 1"), students=STUDENTS, manual=MANUAL)
