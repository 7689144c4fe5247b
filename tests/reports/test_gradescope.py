"""Gradescope's results.json: the reference sample's file checked against the documented fields.

The fields, their types and the allowed values are those of Gradescope's "Autograder
Specifications" (gradescope-autograders.readthedocs.io/en/latest/specs/, "Output format").
"""

import json
import numbers

import pytest

from graders.core.results import CheckResult, GradingResult, QuestionResult
from reports.gradescope import gradescope_json
from tests.grading import REFERENCE, run_grader

TOP_LEVEL = {"score", "execution_time", "output", "output_format", "test_output_format", "test_name_format",
             "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard"}
TEST_FIELDS = {"score", "max_score", "status", "name", "name_format", "number", "output", "output_format",
               "tags", "visibility", "extra_data"}
VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}
FORMATS = {"text", "simple_format", "html", "md", "ansi"}
STATUSES = {"passed", "failed"}


def documented_field_problems(document: dict) -> list[str]:
    """Everything in `document` that Gradescope's specification does not allow; [] when valid."""
    problems = [f"unknown top-level field {key!r}" for key in set(document) - TOP_LEVEL]
    if not isinstance(document.get("score"), numbers.Real):
        problems.append("the top-level score is missing or not a number")
    for key in ("visibility", "stdout_visibility"):
        if key in document and document[key] not in VISIBILITIES:
            problems.append(f"{key} {document[key]!r} is not one of {sorted(VISIBILITIES)}")
    for key in ("output_format", "test_output_format", "test_name_format"):
        if key in document and document[key] not in FORMATS:
            problems.append(f"{key} {document[key]!r} is not one of {sorted(FORMATS)}")
    tests = document.get("tests")
    if not isinstance(tests, list):
        return problems + ["tests is not a list"]
    for number, test in enumerate(tests, start=1):
        problems += [f"test {number}: {problem}" for problem in _test_problems(test)]
    names = [test.get("name") for test in tests]
    if len(set(names)) != len(names):
        problems.append("test names are not unique")
    if abs(sum(t.get("score", 0) for t in tests) - document.get("score", 0)) > 1e-9:
        problems.append("the score is not the sum of the tests' scores")
    return problems


def _test_problems(test: dict) -> list[str]:
    problems = [f"unknown field {key!r}" for key in set(test) - TEST_FIELDS]
    for key, kind in (("name", str), ("output", str), ("score", numbers.Real), ("max_score", numbers.Real)):
        if not isinstance(test.get(key), kind):
            problems.append(f"{key} is missing or not a {kind.__name__}")
    if not problems and not 0 <= test["score"] <= test["max_score"]:
        problems.append(f"score {test['score']} is not within 0..{test['max_score']}")
    if test.get("status", "passed") not in STATUSES:
        problems.append(f"status {test['status']!r} is not one of {sorted(STATUSES)}")
    if test.get("visibility", "visible") not in VISIBILITIES:
        problems.append(f"visibility {test['visibility']!r} is not one of {sorted(VISIBILITIES)}")
    if not (isinstance(test.get("tags", []), list) and all(isinstance(t, str) for t in test.get("tags", []))):
        problems.append("tags is not a list of strings")
    return problems


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("gradescope")
    data, process = run_grader(REFERENCE, out, questions=["q4", "q5"])
    assert data is not None, process.output[-3000:]
    return data, json.loads((out / "gradescope.json").read_text())


@pytest.mark.slow
def test_reference_sample_validates_against_the_documented_fields(reference_run):
    data, document = reference_run
    assert documented_field_problems(document) == []
    assert document["score"] == data["score"] == data["max_score"] > 0
    checks = [c for q in data["questions"] for c in q["checks"] if c["status"] != "skipped"]
    assert [t["name"].rsplit("[", 1)[1].rstrip("]") for t in document["tests"]] == [c["id"] for c in checks]
    assert all(t["name"].startswith(f"{c['id'].split('.')[0]} · {c['title']}") for t, c in zip(document["tests"], checks))
    assert all(t["status"] == "passed" and t["score"] == t["max_score"] for t in document["tests"])
    assert document["output_format"] == document["test_output_format"] == "text", "a student's text stays text"


@pytest.mark.slow
def test_the_validator_catches_what_gradescope_would_not_accept(reference_run):
    _, document = reference_run
    broken = json.loads(json.dumps(document))
    broken["tests"][0].update(visibility="after_grading", status="partial", score=99)
    broken["tests"][1].pop("max_score")
    broken["colour"] = "red"
    problems = " | ".join(documented_field_problems(broken))
    for expected in ("visibility 'after_grading'", "status 'partial'", "score 99 is not within",
                     "max_score is missing", "unknown top-level field 'colour'", "not the sum"):
        assert expected in problems


def ta_result() -> GradingResult:
    checks = [CheckResult("q6.train.output", "failed", 0.0, 2.0, "y differs from Keras by up to 0.12",
                          details={"diagnosis": "unbiased variance (divided by N - 1)"}),
              CheckResult("q6.hidden_seed", "passed", 1.0, 1.0, hidden=True),
              CheckResult("q6.hidden_other", "failed", 0.0, 1.0, "<b>bold</b>", hidden=True),
              CheckResult("q6.skipped", "skipped", 0.0, 1.0, "hidden check", hidden=True)]
    return GradingResult("s.ipynb", 7, True, "bubblewrap", {}, 3.2, [QuestionResult("q6", "BatchNorm", checks)],
                         load={"skipped": [{"origin": "cell 2", "source": "model.fit(x)", "reason": "top-level call"}],
                               "problems": [{"origin": "cell 5", "message": "SyntaxError: invalid syntax"}]})


def test_hidden_checks_are_shown_after_publishing():
    document = gradescope_json(ta_result())
    assert documented_field_problems(document) == []
    visibility = {t["name"].rsplit("[", 1)[1].rstrip("]"): t["visibility"] for t in document["tests"]}
    assert visibility == {"q6.train.output": "visible", "q6.hidden_seed": "after_published",
                          "q6.hidden_other": "after_published"}
    assert document["score"] == 1.0


def test_outputs_carry_the_diagnosis_and_what_did_not_load():
    document = gradescope_json(ta_result())
    assert "Likely mistake: unbiased variance" in document["tests"][0]["output"]
    assert "Did not load: cell 5: SyntaxError" in document["output"]
    assert "1 notebook statement(s) were not run" in document["output"]
    assert document["tests"][2]["output"] == "<b>bold</b>", "kept verbatim: declared as text, not HTML"
