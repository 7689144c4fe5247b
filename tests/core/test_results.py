"""Results dataclasses and their serialisers: JSON round trip, Gradescope fields, escaped HTML."""

import json

from graders.core.results import CheckResult, GradingResult, QuestionResult, from_json, to_json, write_json
from reports.gradescope import gradescope_json
from reports.render import render_report

INJECTION = "<script>alert('x')</script>"


def sample_result() -> GradingResult:
    checks = [CheckResult("q5.conv.valid", "passed", 1.0, 1.0),
              CheckResult("q5.conv.same", "failed", 0.0, 1.0, f"expected 3, got {INJECTION}"),
              CheckResult("q5.table.layer9", "skipped", 0.0, 2.0, "hidden check", hidden=True)]
    return GradingResult(submission="s.py", seed=1, hidden=False, isolation="process",
                         dataset={"source": "test", "n_train": 1, "n_test": 1}, duration_s=1.5,
                         questions=[QuestionResult("q5", "Shapes", checks)],
                         load={"files": ["s.py"], "skipped": [{"origin": "nb cell 1", "source": INJECTION,
                                                               "reason": "top-level call", "names": []}]},
                         answers={"q4a": INJECTION})


def test_totals_leave_out_skipped_checks():
    result = sample_result()
    assert (result.score, result.max_score) == (1.0, 2.0)


def test_json_round_trip(tmp_path):
    path = tmp_path / "out" / "results.json"
    write_json(sample_result(), path)
    data = json.loads(path.read_text())
    assert data["score"] == 1.0 and data["questions"][0]["max_score"] == 2.0
    assert to_json(from_json(data)) == data


def test_gradescope_has_the_documented_fields():
    document = gradescope_json(sample_result())
    assert document["score"] == 1.0
    assert [t["name"] for t in document["tests"]] == ["q5 · conv, valid [q5.conv.valid]", "q5 · conv, same [q5.conv.same]"]
    for test in document["tests"]:
        assert {"name", "score", "max_score", "output", "visibility", "status"} <= set(test)


def test_report_escapes_everything_a_student_wrote():
    html = render_report(sample_result())
    assert INJECTION not in html
    assert "&lt;script&gt;" in html
    assert "Total: 1 / 2" in html
    assert html.index("q5.conv.same") < html.index("q5.conv.valid"), "failed checks come first"


def test_a_check_stores_its_category_and_observations_and_old_files_read_back():
    from graders.core.isolation import Isolation

    result = sample_result()
    check = CheckResult("q5.table.layer1", "failed", 0.0, 1.0, "no answer yet", cause="Unanswered",
                        category="not attempted", observations={"actual": None, "expected": [[256, 256, 64], 1792]})
    result.questions[0].checks.append(check)
    data = to_json(result)
    assert data["questions"][0]["checks"][-1]["category"] == "not attempted"
    assert from_json(data).questions[0].checks[-1].observations == check.observations
    old = json.loads(json.dumps(data))
    for entry in old["questions"][0]["checks"]:
        entry.pop("category"), entry.pop("observations")
    old["questions"][0]["checks"].append({"id": "q5.conv.dilated", "status": "failed", "score": 0.0, "max_score": 1.0,
                                          "message": "x", "cause": "NotLoaded"})
    categories = [c.category for c in from_json(old).questions[0].checks]
    assert categories == ["passed", "failed", "skipped", "not attempted", "not graded"]
    assert isinstance(from_json(data).isolation, Isolation) and data["isolation"] == "process"


def test_isolation_is_a_value_with_one_string_form():
    from graders.core.isolation import Isolation

    for text in ("bubblewrap+cgroup", "bubblewrap", "process+cgroup", "process", "process (unconfined root)",
                 "process+cgroup (unconfined root)", "none (the submission did not load)", "unknown"):
        assert str(Isolation.parse(text)) == text
    assert Isolation.parse("process+cgroup (unconfined root)") == Isolation("process", cgroup=True,
                                                                           unconfined_root=True)
    assert Isolation.parse("bubblewrap+cgroup").confined and not Isolation.parse("process").confined


def test_a_class_result_that_records_the_seed_is_its_owners_alone(tmp_path):
    from graders.commands.outfolder import store_result
    from graders.core.results import GradingResult, write_json

    result = GradingResult.unloadable("s", "crashed", seed=2**63 + 5, hidden=True)
    write_json(result, tmp_path / "open.json")
    write_json(result, tmp_path / "private.json", private=True)
    assert (tmp_path / "private.json").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "open.json").stat().st_mode & 0o077 != 0  # a report's usual permissions
    store_result(tmp_path, "1001", result)  # a rescore or a recheck rewrites a class's results so
    assert (tmp_path / "students" / "1001" / "results.json").stat().st_mode & 0o777 == 0o600
