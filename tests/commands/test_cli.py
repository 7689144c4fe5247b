"""`hw3grade grade`: the console script over the same grading, its exit codes and its defaults."""

import json
import subprocess
import sys

import pytest

from graders.commands.cli import build_parser
from graders.core.exits import EXIT_ALL_PASSED, EXIT_NOT_LOADED, EXIT_SOME_FAILED
from graders.core.options import grader_modules
from tests.grading import PROJECT, REFERENCE, SAMPLES

pytestmark = pytest.mark.slow  # grades in a subprocess


def hw3grade(*args, cwd=PROJECT, timeout=600):
    return subprocess.run([sys.executable, "-m", "graders.commands.cli", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


def test_grade_writes_json_prints_the_total_and_exits_1_when_a_check_fails(tmp_path):
    out = tmp_path / "out.json"
    process = hw3grade("grade", SAMPLES / "typical_mistakes", "--questions", "q4", "--json", out,
                       "--report", tmp_path / "r.html")
    assert process.returncode == EXIT_SOME_FAILED, process.stdout[-3000:] + process.stderr[-2000:]
    assert json.loads(out.read_text())["score"] == 4  # tests/golden/typical_mistakes/q4.json
    assert "4/6" in process.stdout and "partial run: graded q4 only" in process.stdout


def test_grade_exits_0_when_every_check_passes(tmp_path):
    process = hw3grade("grade", REFERENCE, "--questions", "q4", "--report", tmp_path / "r.html")
    assert process.returncode == EXIT_ALL_PASSED, process.stdout[-3000:]


@pytest.mark.parametrize("make", [
    lambda tmp: tmp / "does_not_exist.py",
    lambda tmp: (tmp / "answers.txt").write_text("hello") and tmp / "answers.txt",
    lambda tmp: (tmp / "empty").mkdir() or tmp / "empty",
    lambda tmp: (tmp / "hw3.ipynb").write_text("{not json") and tmp / "hw3.ipynb",
], ids=["missing path", "txt file", "empty folder", "broken notebook"])
def test_an_unloadable_submission_is_said_once_without_a_traceback_and_exits_10(tmp_path, make):
    process = hw3grade("grade", make(tmp_path), "--questions", "q4", "q7", "--json", tmp_path / "out.json",
                       "--report", tmp_path / "r.html")
    output = process.stdout + process.stderr
    assert process.returncode == EXIT_NOT_LOADED, output[-3000:]
    assert "Traceback" not in output and "bug in the grader" not in output
    assert output.count("could not be loaded: ") == 2  # at the top, and once in the summary
    data = json.loads((tmp_path / "out.json").read_text())
    assert data["score"] == 0 and data["max_score"] > 0
    messages = {c["message"] for q in data["questions"] for c in q["checks"]}
    assert messages == {"not graded: the submission could not be loaded (see the top of the report)"}


def test_grade_outside_the_project_keeps_its_configuration_and_reports_where_the_user_is(tmp_path):
    process = hw3grade("grade", REFERENCE, "--questions", "q4", cwd=tmp_path)
    output = process.stdout + process.stderr
    assert process.returncode == EXIT_ALL_PASSED, output[-3000:]
    assert "PytestUnknownMarkWarning" not in output and "Unknown pytest.mark" not in output
    assert "timeout: 900" in output  # pytest-timeout read the project's configuration
    reports = list((tmp_path / "reports" / "out").glob("reference-*.q4.html"))
    assert len(reports) == 1 and f"report: {reports[0]}" in output
    assert oct(reports[0].stat().st_mode & 0o777) == "0o644"


def test_grade_help_describes_every_option():
    grade = next(action for action in build_parser()._subparsers._group_actions[0].choices.items()
                 if action[0] == "grade")[1]
    for action in grade._actions:
        if action.dest != "help":
            assert action.help, f"--{action.dest} has no help"
    assert "exit codes" in grade.epilog


def test_unknown_question_is_refused():
    with pytest.raises(ValueError, match="no grader for question 'q9'"):
        grader_modules(["q9"])
