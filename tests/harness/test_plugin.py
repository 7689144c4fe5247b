"""The pytest plugin end to end: options, hidden checks, the results JSON contract, seeds, the taxonomy."""

import json
import subprocess
import sys
import types

import pytest

from graders.core.errors import CheckFailed, NotAttempted
from graders.core.exits import EXIT_USAGE
from graders.core.results import STATUSES
from graders.core.rubric import DEFAULT_RUBRIC, Rubric
from graders.core.seeds import worker_seed
from graders.harness.checks import CheckContext, result_of
from graders.harness.judgement import judge_check
from tests.grading import PROJECT, REFERENCE, run_grader

DESIGN_FIELDS = {"submission": str, "score": float, "max_score": float, "hidden": bool, "seed": int,
                 "isolation": str, "dataset": dict, "duration_s": float, "questions": list}


def _report(when, *, failed=False, skipped=False, longrepr=None):
    return types.SimpleNamespace(when=when, passed=not (failed or skipped), failed=failed, skipped=skipped,
                                 longrepr=longrepr)


def _result(error):
    context = CheckContext(id="q4.dense", points=1.0, hidden=False)
    return result_of(context, _report("call", failed=True), types.SimpleNamespace(excinfo=types.SimpleNamespace(
        value=error)), lambda check_id, observations: judge_check(check_id, observations, Rubric.load())), context


def test_a_grader_bug_is_an_error_even_an_assertion_error():
    for error in (KeyError("oops"), AssertionError("expected 3, got 4")):
        result, _ = _result(error)
        assert result.status == "error" and result.score == 0 and "bug in the grader" in result.message


def test_a_check_failure_is_the_students_and_records_its_diagnosis():
    result, context = _result(CheckFailed("expected 3, got 4", diagnosis="unbiased variance"))
    assert (result.status, result.message, result.cause) == ("failed", "expected 3, got 4", "CheckFailed")
    assert result.shown_details["diagnosis"] == "unbiased variance"
    assert result.observations["error"]["cause"] == "CheckFailed"  # judged again as the same failure
    result, _ = _result(NotAttempted("`dense_params(...)` raises NotImplementedError"))
    assert result.cause == "NotAttempted"


def test_the_worker_seed_is_keyed_by_the_run_seed():
    assert worker_seed(1234) == worker_seed(1234) != worker_seed(1235)
    assert 0 <= worker_seed(2**63 - 1) < 2**32
    assert worker_seed(1234) != int.from_bytes(__import__("hashlib").sha256(b"hw3-worker-1234").digest()[:4], "big")


@pytest.mark.slow
def test_grading_without_submission_is_a_usage_error():
    process = subprocess.run([sys.executable, "-m", "pytest", "graders/test_q4_params.py", "-q"],
                             cwd=PROJECT, capture_output=True, text=True, timeout=300)
    assert process.returncode == EXIT_USAGE
    assert "--submission is required" in process.stderr + process.stdout


@pytest.mark.slow
def test_results_json_follows_the_design(tmp_path):
    result, _ = run_grader(REFERENCE, tmp_path, questions=["q4"], seed=99)
    for field, kind in DESIGN_FIELDS.items():
        assert isinstance(result[field], kind), field
    assert result["seed"] == 99 and result["isolation"].split("+")[0].split(" ")[0] in ("bubblewrap", "process")
    assert set(result["dataset"]) == {"source", "n_train", "n_test"}
    assert result["partial"] is True and result["graded_questions"] == ["q4"]
    question = result["questions"][0]
    assert {"id", "score", "max_score", "checks"} <= set(question)
    for check in question["checks"]:
        assert {"id", "status", "score", "max_score", "message", "title"} <= set(check)
        assert check["status"] in STATUSES
    # the profile: each check's seconds, and the requests each made (q4 calls the student's functions)
    profile = result["profile"]
    assert set(profile["checks_s"]) == {check["id"] for check in question["checks"]}
    requests = profile["calls_by_check_s"]["q4.dense"]
    assert requests["call dense_params"]["calls"] >= 1 and requests["call dense_params"]["s"] >= 0
    assert any(what.startswith("trusted q4.") for what in requests), requests
    first_check = question["checks"][0]["id"]
    assert "worker start (its imports and the submission's top level)" in profile["calls_by_check_s"][first_check]


@pytest.mark.slow
def test_hidden_checks_run_only_with_hidden(tmp_path):
    rubric = tmp_path / "rubric.toml"
    rubric.write_text(DEFAULT_RUBRIC.read_text().replace(
        '"table.layer*" = 1', '"table.layer*" = 1\n"table.layer9" = { points = 2, hidden = true }'))
    common = {"rubric": str(rubric), "select": "table"}
    student, _ = run_grader(REFERENCE, tmp_path / "student", questions=["q5"], **common)
    ta, _ = run_grader(REFERENCE, tmp_path / "ta", questions=["q5"], args=["--hidden"], **common)
    layer9 = {r["hidden"]: next(c for c in r["questions"][0]["checks"] if c["id"] == "q5.table.layer9")
              for r in (student, ta)}
    assert layer9[False]["status"] == "skipped" and "TA's grading" in layer9[False]["message"]
    assert student["max_score"] == 8
    assert layer9[True]["status"] == "passed" and ta["score"] == ta["max_score"] == 10


@pytest.mark.slow
def test_a_hidden_run_draws_a_secret_seed_recorded_for_the_ta_only(tmp_path):
    first, graded = run_grader(REFERENCE, tmp_path / "a", questions=["q4"], args=["--hidden"])
    second, _ = run_grader(REFERENCE, tmp_path / "b", questions=["q4"], args=["--hidden"])
    assert first["seed"] != second["seed"] and first["seed"] >= 2**20
    seed = str(first["seed"])
    assert seed not in (tmp_path / "a" / "report.html").read_text()
    assert seed not in (tmp_path / "a" / "gradescope.json").read_text()
    assert seed not in graded.output
    again, _ = run_grader(REFERENCE, tmp_path / "c", questions=["q4"], args=["--hidden"], seed=first["seed"])
    assert [c["message"] for q in again["questions"] for c in q["checks"]] == \
           [c["message"] for q in first["questions"] for c in q["checks"]]
    assert json.loads((tmp_path / "c" / "results.json").read_text())["seed"] == first["seed"]


def test_default_reports_of_two_same_named_submissions_do_not_collide(tmp_path, monkeypatch):
    from graders.core.options import default_report_path

    monkeypatch.chdir(tmp_path)
    first, second = default_report_path("a/hw3.ipynb"), default_report_path("b/hw3.ipynb")
    assert first != second and first.parent == second.parent == tmp_path / "reports" / "out"
    assert first.name.startswith("hw3-") and default_report_path("a/hw3.ipynb", partial_questions=("q5",)) != first
