"""`hw3grade grade`: the console script over the same grading function."""

import json
import subprocess
import sys

import pytest

from graders.harness.cli import grader_modules
from tests.grading import PROJECT, SAMPLES


def test_grade_command_writes_json_and_prints_the_total(tmp_path):
    out = tmp_path / "out.json"
    process = subprocess.run(
        [sys.executable, "-m", "graders.harness.cli", "grade", str(SAMPLES / "typical_mistakes"),
         "--questions", "q4", "--json", str(out), "--report", str(tmp_path / "r.html")],
        cwd=PROJECT, capture_output=True, text=True, timeout=300)
    assert process.returncode == 0, process.stderr[-2000:]
    assert process.stdout.strip().endswith("typical_mistakes: 5/6")
    assert json.loads(out.read_text())["score"] == 5


def test_unknown_question_is_refused():
    with pytest.raises(ValueError, match="no grader for question 'q9'"):
        grader_modules(["q9"])
