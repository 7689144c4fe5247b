"""The pytest plugin end to end: options, hidden checks, the results JSON contract, unloadable input."""

import subprocess
import sys
import types

from graders.harness.plugin import CheckContext, _check_result
from graders.harness.results import STATUSES
from graders.harness.rubric import DEFAULT_RUBRIC
from tests.grading import PROJECT, SAMPLES, run_grader

DESIGN_FIELDS = {"submission": str, "score": float, "max_score": float, "hidden": bool, "seed": int,
                 "isolation": str, "dataset": dict, "duration_s": float, "questions": list}


def test_grading_without_submission_is_a_usage_error():
    process = subprocess.run([sys.executable, "-m", "pytest", "graders/test_q4_params.py", "-q"],
                             cwd=PROJECT, capture_output=True, text=True, timeout=300)
    assert process.returncode == 4
    assert "--submission is required" in process.stderr + process.stdout


def test_results_json_follows_the_design(tmp_path):
    result, _ = run_grader(SAMPLES / "reference", tmp_path, questions=["q4"], args=["--seed", "99"])
    for field, kind in DESIGN_FIELDS.items():
        assert isinstance(result[field], kind), field
    assert result["seed"] == 99 and result["isolation"].split("+")[0] in ("bubblewrap", "process")
    assert set(result["dataset"]) == {"source", "n_train", "n_test"}
    question = result["questions"][0]
    assert {"id", "score", "max_score", "checks"} <= set(question)
    for check in question["checks"]:
        assert {"id", "status", "score", "max_score", "message"} <= set(check)
        assert check["status"] in STATUSES


def test_an_unreadable_submission_still_gets_a_json_with_every_check_at_zero(tmp_path):
    result, process = run_grader(tmp_path / "does_not_exist.py", tmp_path / "out", questions=["q4"])
    assert process.returncode == 1
    assert result["score"] == 0 and result["max_score"] == 6
    assert "could not be loaded" in result["load"]["error"]
    assert all("does_not_exist.py" in c["message"] for c in result["questions"][0]["checks"])


def test_hidden_checks_run_only_with_hidden(tmp_path):
    rubric = tmp_path / "rubric.toml"
    rubric.write_text(DEFAULT_RUBRIC.read_text().replace(
        '"table.layer*" = 1', '"table.layer*" = 1\n"table.layer9" = { points = 2, hidden = true }'))
    args = ["--rubric", str(rubric), "--gradescope", str(tmp_path / "gs.json"), "-k", "table"]
    student, _ = run_grader(SAMPLES / "reference", tmp_path / "student", questions=["q5"], args=args)
    ta, _ = run_grader(SAMPLES / "reference", tmp_path / "ta", questions=["q5"], args=[*args, "--hidden"])
    layer9 = {r["hidden"]: next(c for c in r["questions"][0]["checks"] if c["id"] == "q5.table.layer9")
              for r in (student, ta)}
    assert layer9[False]["status"] == "skipped" and "TA's grading" in layer9[False]["message"]
    assert student["max_score"] == 8
    assert layer9[True]["status"] == "passed" and ta["score"] == ta["max_score"] == 10


def _report(when, *, failed=False, skipped=False, longrepr=None):
    return types.SimpleNamespace(when=when, passed=not (failed or skipped), failed=failed, skipped=skipped,
                                 longrepr=longrepr)


def test_a_grader_bug_is_an_error_not_a_student_failure():
    context = CheckContext(id="q4.dense", points=1.0, hidden=False)
    call = types.SimpleNamespace(excinfo=types.SimpleNamespace(value=KeyError("oops")))
    result = _check_result(context, _report("call", failed=True), call)
    assert result.status == "error" and result.score == 0 and "bug in the grader" in result.message
    call = types.SimpleNamespace(excinfo=types.SimpleNamespace(value=AssertionError("expected 3, got 4")))
    result = _check_result(context, _report("call", failed=True), call)
    assert (result.status, result.message) == ("failed", "expected 3, got 4")


def test_pytests_restatement_of_a_rewritten_assert_is_dropped_from_the_message():
    context = CheckContext(id="q5.table.layer2", points=1.0, hidden=False)
    error = AssertionError("row 2: expected (124, 124, 32), got (126, 126, 32)\nassert not ['expected ...']")
    call = types.SimpleNamespace(excinfo=types.SimpleNamespace(value=error))
    result = _check_result(context, _report("call", failed=True), call)
    assert result.message == "row 2: expected (124, 124, 32), got (126, 126, 32)"
