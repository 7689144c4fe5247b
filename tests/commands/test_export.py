"""`hw3grade export OUT --lms ... --roster ...`: each LMS's import file, joined with the roster on the student id.

The rosters below are written as each LMS exports its own gradebook (Canvas's "Points Possible" row,
Blackboard's UTF-16 tab-separated download, Brightspace's `#` ids); the goldens in golden/export/ follow
each LMS's documented import format (reports/lms.py cites the pages). Roster student 1005 has no submission;
submission 1004 is on no roster: it is written apart and said, never dropped.
"""

import json

import pytest

from graders.commands import cli
from graders.commands.outfolder import stored_results
from graders.commands.publish import publish_class
from graders.core.rubric import Rubric
from graders.term.marks import Marks
from tests.commands.test_rescore import LATE_RULE, MARKS
from tests.term.synthetic import make_out, rubric_with

GOLDEN = __import__("pathlib").Path(__file__).parent / "golden" / "export"
ROSTERS = {
    "canvas": ("Student,ID,SIS User ID,SIS Login ID,Section,HW3 (4411),Quiz 1 (4412)\n"
               "    Points Possible,,,,,30.00,10.00\n"
               '"Doe, Jane",90001,1001,jdoe,CS 101 A,,9\n'
               '"Roe, Rick",90002,1002,rroe,CS 101 A,,7\n'
               '"Poe, Edgar",90003,1003,epoe,CS 101 B,,8\n'
               '"Moe, Absent",90005,1005,amoe,CS 101 B,,10\n').encode("utf-8-sig"),
    "moodle": ("First name,Last name,ID number,Institution,Department,Email address\n"
               "Jane,Doe,1001,,CS,jdoe@uni.example\nRick,Roe,1002,,CS,rroe@uni.example\n"
               "Edgar,Poe,1003,,CS,epoe@uni.example\nAbsent,Moe,1005,,CS,amoe@uni.example\n").encode("utf-8"),
    "blackboard": ('"Last Name"\t"First Name"\t"Username"\t"Student ID"\t"Last Access"\t"Availability"\t'
                   '"HW3 [Total Pts: 30 Score] |881234"\n'
                   + "".join(f'"{last}"\t"{first}"\t"{user}"\t"{sid}"\t""\t"Yes"\t""\n' for last, first, user, sid in
                             (("Doe", "Jane", "1001", "S1"), ("Roe", "Rick", "1002", "S2"),
                              ("Poe", "Edgar", "1003", "S3"), ("Moe", "Absent", "1005", "S5")))).encode("utf-16"),
    "brightspace": ("OrgDefinedId,Username,Last Name,First Name,Email,HW3 Points Grade <Numeric MaxPoints:30>,"
                    "End-of-Line Indicator\n"
                    "#1001,#jdoe,Doe,Jane,jdoe@uni.example,,#\n#1002,#rroe,Roe,Rick,rroe@uni.example,,#\n"
                    "#1003,#epoe,Poe,Edgar,epoe@uni.example,,#\n#1005,#amoe,Moe,Absent,amoe@uni.example,,#\n"
                    ).encode("utf-8"),
}
OPTIONS = {"canvas": [], "moodle": ["--key", "Email address"], "blackboard": [], "brightspace": []}


@pytest.fixture
def out(tmp_path):
    """A class of four with a mark, an override and a late submission (1002), published."""
    out = make_out(tmp_path / "out")
    publish_class(out, stored_results(out), rubric=Rubric.load(), marks=Marks(), command="batch")
    (out / "marks.toml").write_text(MARKS)
    assert cli.main(["rescore", str(out), "--rubric", str(rubric_with(tmp_path / "late.toml", LATE_RULE))]) == 0
    return out


def export(out, tmp_path, lms, *options):
    roster = tmp_path / f"roster-{lms}.csv"
    roster.write_bytes(ROSTERS[lms])
    return cli.main(["export", str(out), "--lms", lms, "--roster", str(roster), *OPTIONS[lms], *options])


@pytest.mark.parametrize("lms", list(ROSTERS))
def test_each_lms_gets_its_documented_import_file(out, tmp_path, capsys, lms):
    assert export(out, tmp_path, lms) == 0
    printed = capsys.readouterr().out
    assert (out / "export" / f"{lms}.csv").read_bytes() == (GOLDEN / f"{lms}.csv").read_bytes()
    assert "4 roster students, 3 with a grade, 1 without a submission" in printed
    assert "1 submission(s) not on the roster, NOT in the import file: 1004" in printed
    apart = (out / "export" / f"{lms}-not-on-roster.csv").read_text()
    assert apart.splitlines()[1].startswith("1004,24,30,graded,")


def test_roster_students_without_a_submission_get_0_when_the_ta_says_so(out, tmp_path):
    assert export(out, tmp_path, "canvas", "--missing", "zero") == 0
    assert (out / "export" / "canvas.csv").read_text().splitlines()[-1] == '"Moe, Absent",90005,1005,amoe,CS 101 B,0'


def test_marks_changed_since_they_were_published_are_refused(out, tmp_path, capsys):
    (out / "marks.toml").write_text(MARKS.replace("1.5", "2"))
    assert export(out, tmp_path, "canvas") == 4
    assert "the marks file changed since the grades" in capsys.readouterr().err


def test_a_roster_without_the_id_column_names_its_columns(out, tmp_path, capsys):
    roster = tmp_path / "roster.csv"
    roster.write_text("name,email\nJane,jdoe@uni.example\n")
    assert cli.main(["export", str(out), "--lms", "canvas", "--roster", str(roster)]) == 4
    assert "has no column 'SIS User ID' (its columns: name, email)" in capsys.readouterr().err


def test_every_lms_of_the_option_table_has_a_format():
    from graders.core.options import LMS_NAMES
    from reports.lms import FORMATS

    assert tuple(FORMATS) == LMS_NAMES
    assert json.dumps(sorted(FORMATS))  # plain names
