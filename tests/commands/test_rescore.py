"""`hw3grade rescore OUT`: new points, marks given by hand, overrides and the late rule reach every output, with
the previous gradebook kept and each change said with its reason; a change of what checks observe is refused.

The class is made from the samples' goldens (tests/term/synthetic.py) and published as a batch would: no
worker starts. tests/commands/test_term_batch.py compares a rescore with a fresh batch (slow).
"""

import csv
import json

import pytest

from graders.commands import cli
from graders.commands.outfolder import read_settings, stored_results
from graders.commands.publish import publish_class
from graders.core.rubric import Rubric
from graders.term.marks import Marks
from tests.grading import write_rubric
from tests.term.synthetic import make_out, rubric_with

LATE_RULE = """[late]
due = 2025-03-14T23:59:00+01:00
penalty_per_day = 10
unit = "percent"
cap = 30
"""
MARKS = """[students.1002]
q1a = { points = 1.5, comment = "names the trade-off, no example" }
overrides = [{ points = 1, reason = "regrade request: a (kh, kw) kernel was not in the handout" }]
submitted = 2025-03-16T10:00:00+01:00
"""


@pytest.fixture
def out(tmp_path):
    """A class of four, graded and published under the default rubric."""
    out = make_out(tmp_path / "out")
    publish_class(out, stored_results(out), rubric=Rubric.load(), marks=Marks(), command="batch")
    return out


def gradebook(out) -> dict[str, dict]:
    with open(out / "gradebook.csv", newline="") as handle:
        return {row["id"]: row for row in csv.DictReader(handle)}


def test_new_points_reach_every_output_and_the_change_is_kept_with_its_reason(out, tmp_path, capsys):
    before = (out / "gradebook.csv").read_text()
    old_sha = Rubric.load().sha256[:12]
    changed = write_rubric(tmp_path / "changed.toml", {'"conv.valid"': 3})
    assert cli.main(["rescore", str(out), "--rubric", str(changed)]) == 0
    printed = capsys.readouterr().out
    assert "rescored 4 students" in printed and "no student code ran" in printed
    assert '[q5.checks] "conv.valid": 1 -> 3' in printed
    assert "1001  24/30 -> 26/32" in printed and "q5.conv.valid  1/1 passed -> 3/3 passed" in printed
    assert {student: row["total"] for student, row in gradebook(out).items()} == \
        {"1001": "26", "1002": "17", "1003": "0", "1004": "26"}
    (run,) = sorted(p for p in (out / "history").iterdir() if p.name != "rubrics")
    assert run.name.startswith("001-") and run.name.endswith("-rescore")
    assert (run / f"gradebook-{old_sha}.csv").read_text() == before
    with open(run / "changes.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {(r["student"], r["total_before"], r["total_after"], r["item"], r["why"]) for r in rows} == {
        (student, total, after, "q5.conv.valid", '[q5.checks] "conv.valid": 1 -> 3')
        for student, total, after in (("1001", "24", "26"), ("1002", "17", "17"), ("1003", "0", "0"),
                                      ("1004", "24", "26"))}
    assert {p.name for p in (out / "history" / "rubrics").iterdir()} == {f"{old_sha}.toml",
                                                                          f"{Rubric.load(changed).sha256[:12]}.toml"}
    stored = json.loads((out / "students" / "1001" / "results.json").read_text())
    assert stored["score"] == 26 and stored["rubric"]["sha256"] == Rubric.load(changed).sha256
    assert json.loads((out / "students" / "1001" / "gradescope.json").read_text())["score"] == 26
    index = (out / "index.html").read_text()
    assert 'id="changes"' in index and "[q5.checks] &#34;conv.valid&#34;: 1 -&gt; 3" in index
    assert 'data-changed="1001"' in index and "24 / 30" in index and "26 / 32" in index
    report = (out / "students" / "1001" / "report.html").read_text()
    assert 'id="changes"' in report and 'data-item="q5.conv.valid"' in report
    assert "(rescore): 24 / 30 → 26 / 32" in report
    assert read_settings(out).rubric == str(changed.resolve()), "the class is judged under the new rubric from now on"
    assert cli.main(["rescore", str(out)]) == 0 and "no grade changed" in capsys.readouterr().out


def test_a_change_of_what_checks_observe_is_refused_with_its_checks_and_rubric_lines(out, tmp_path, capsys):
    more_cases = tmp_path / "cases.toml"  # q5's random cases per check: 12 -> 20 (q4 has a `cases` of its own)
    more_cases.write_text(Rubric.load().path.read_text().replace("cases = 12               # random cases per check",
                                                                 "cases = 20  #", 1))
    before = (out / "gradebook.csv").read_text()
    assert cli.main(["rescore", str(out), "--rubric", str(more_cases)]) == 4
    message = capsys.readouterr().err
    assert "q5.conv.valid (4 students): [q5] cases changed" in message
    assert "[q5] cases: 12 -> 20" in message and "q4." not in message.split("rubric lines changed")[0]
    assert f"hw3grade batch {out} --rubric {more_cases} --recheck q5.conv.dilated" in message
    assert (out / "gradebook.csv").read_text() == before
    assert not [p for p in (out / "history").iterdir() if p.name != "rubrics"], "a refused rescore changes nothing"


def test_marks_overrides_and_the_late_rule_reach_every_output_with_their_reasons(out, tmp_path, capsys):
    rubric = rubric_with(tmp_path / "late.toml", LATE_RULE)
    (out / "marks.toml").write_text(MARKS)
    assert cli.main(["rescore", str(out), "--rubric", str(rubric)]) == 0
    printed = capsys.readouterr().out
    row = gradebook(out)["1002"]
    # 17 autograded + 1.5 + 1 - 2 started days late x 10 % of 30
    assert (row["total"], row["max"], row["q1a"], row["q4a"], row["override"], row["late"]) == \
        ("13.5", "30", "1.5", "", "1", "-6")
    assert row["notes"].startswith("q1a: marked by hand 1.5/2: names the trade-off, no example; override +1: regrade")
    assert "late -6: submitted 2025-03-16 10:00+01:00, 2 days after the due date 2025-03-14 23:59+01:00" in row["notes"]
    assert gradebook(out)["1001"]["notes"] == "not marked yet: q1a, q4a, q6c"
    assert "1002  17/30 -> 13.5/30" in printed and "q1a  not marked/2 -> 1.5/2: marked by hand: names" in printed
    report = (out / "students" / "1002" / "report.html").read_text()
    assert 'id="final-grade">Grade: 13.5 / 30' in report
    assert 'data-mark="q1a"' in report and "names the trade-off, no example" in report
    assert 'data-adjustment="override"' in report and 'data-adjustment="late"' in report
    gradescope = json.loads((out / "students" / "1002" / "gradescope.json").read_text())
    assert gradescope["score"] == 13.5
    extra = {t["name"]: (t["score"], t["max_score"], t["output"]) for t in gradescope["tests"] if t["tags"][0]
             in ("manual", "override", "late")}
    assert extra["q1a · marked by hand [q1a]"] == (1.5, 2.0, "marked by hand 1.5/2: names the trade-off, no example")
    assert extra["Adjustment"][:2] == (1.0, 0.0) and extra["Late penalty"][:2] == (-6.0, 0.0)
    index = (out / "index.html").read_text()
    assert "override +1: regrade request" in index and "13.5 / 30" in index


@pytest.mark.parametrize("marks, named", [
    ("[students.2001]\nq1a = 1\n", "[students.2001]: no student '2001' in this class"),
    ("[students.1001]\nq7z = 1\n", "[students.1001] q7z: not a manual item of the rubric"),
])
def test_a_mark_for_an_unknown_student_or_item_is_an_error_naming_it(out, capsys, marks, named):
    (out / "marks.toml").write_text(marks)
    assert cli.main(["rescore", str(out)]) == 4
    assert named in capsys.readouterr().err


def test_a_folder_with_no_graded_student_is_said(tmp_path, capsys):
    assert cli.main(["rescore", str(tmp_path)]) == 4
    assert "has no graded students" in capsys.readouterr().err


def test_a_submission_time_that_cannot_be_compared_with_the_due_date_is_refused_before_anything_is_written(
        out, tmp_path, capsys):
    (out / "marks.toml").write_text("[students.1002]\nsubmitted = 2025-03-16T10:00:00\n")  # no UTC offset
    before = (out / "students" / "1002" / "results.json").read_text()
    assert cli.main(["rescore", str(out), "--rubric", str(rubric_with(tmp_path / "late.toml", LATE_RULE))]) == 4
    assert "[students.1002]: 2025-03-16 10:00 and 2025-03-14 23:59+01:00: give both times with a UTC offset" in \
        capsys.readouterr().err
    assert (out / "students" / "1002" / "results.json").read_text() == before
