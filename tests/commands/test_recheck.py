"""What a batch does with each stored student (graders/commands/recheck.py): grade in full, rerun some checks,
judge again, or nothing; and a recheck's checks merged into the stored result."""

import json
from dataclasses import replace
from pathlib import Path

import pytest

from graders.commands import batch
from graders.commands.recheck import FORCED, merge_recheck, plan_batch
from graders.core.rubric import Rubric
from graders.submission.classfolder import Entry
from tests.grading import write_rubric
from tests.term.synthetic import make_out, result_of

VERSION = "test"  # synthetic.make_out's meta.json: content = the sample's name, grader = "test"


def plan(out, rubric=None, forced=(), version=VERSION, contents=None):
    entries = [Entry(student, Path(sample)) for student, sample in
               {"1001": "reference", "1002": "typical_mistakes", "1005": "new_student"}.items()]
    contents = contents or {}
    return plan_batch(out, entries, version=version, rubric=rubric or Rubric.load(), forced=forced,
                      content_hash=lambda path: contents.get(path.name, path.name))


@pytest.fixture
def out(tmp_path):
    return make_out(tmp_path / "out", students={"1001": "reference", "1002": "typical_mistakes"})


def ids(entries) -> list[str]:
    return [entry.student_id for entry in entries]


def test_only_what_changed_is_graded_and_an_unchanged_rubric_is_not_judged_again(out):
    same = plan(out)
    assert (ids(same.grade), ids(same.unchanged), same.rejudge, same.recheck) == (["1005"], ["1001", "1002"], [], {})
    assert same.reruns["1005"].reason == "graded"
    resubmitted = plan(out, contents={"typical_mistakes": "new bytes"}, version=VERSION)
    assert ids(resubmitted.grade) == ["1002", "1005"]
    assert resubmitted.reruns["1002"].reason == "re-graded: the submission changed"
    assert plan(out, version="new code").reruns["1001"].reason == "re-graded: the grader changed"


def test_a_judged_change_is_judged_again_and_an_observed_one_reruns_only_its_checks(out, tmp_path):
    points = plan(out, Rubric.load(write_rubric(tmp_path / "points.toml", {'"conv.valid"': 3})))
    assert ids(points.rejudge) == ["1001", "1002"] and points.recheck == {}
    more_cases = tmp_path / "cases.toml"
    more_cases.write_text(Rubric.load().path.read_text().replace("cases = 12               # random cases per check",
                                                                 "cases = 20  #", 1))
    observed = plan(out, Rubric.load(more_cases))
    ((checks, group),) = observed.recheck.items()
    assert ids(group) == ["1001", "1002"] and "q5.conv.valid" in checks and "q5.table.layer1" not in checks
    assert observed.reruns["1001"].reason_for("q5.conv.valid").startswith("re-run: [q5] cases changed")


def test_checks_named_by_the_ta_rerun_and_a_name_matching_nothing_is_refused(out):
    forced = plan(out, forced=("q4.gru.*",))
    assert set(forced.recheck) == {frozenset({"q4.gru.reset_after", "q4.gru.reset_before"})}
    assert forced.reruns["1002"].reason_for("q4.gru.reset_after") == FORCED
    entries = [Entry("1001", Path("reference"))]
    with pytest.raises(ValueError, match="--recheck q9.nothing: no check"):
        plan_batch(out, entries, version=VERSION, rubric=Rubric.load(), forced=("q9.nothing",),
                   content_hash=lambda path: path.name)


def test_a_recheck_replaces_only_its_checks_and_is_judged_under_the_rubric():
    rubric = Rubric.load()
    stored = result_of("typical_mistakes", rubric)
    rerun = result_of("reference", rubric)
    rerun = replace(rerun, questions=[replace(q, checks=[c for c in q.checks if c.id.startswith("q4.gru")])
                                      for q in rerun.questions if q.id == "q4"])
    merged = merge_recheck(stored, rerun, rubric)
    statuses = {c.id: c.status for q in merged.questions for c in q.checks}
    assert statuses["q4.gru.reset_after"] == "passed" and statuses["q4.conv2d"] == "failed"  # kept as stored
    assert merged.score == stored.score + 1 and merged.rubric["sha256"] == rubric.sha256


def test_a_recheck_keeps_the_class_settings_and_its_secret_seed(tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "batch.json").write_text(json.dumps({"class_dir": "/class", "rubric": None, "questions": ["q3"],
                                                "hidden": True, "mnist": None, "isolation": "auto"}))
    called = {}
    monkeypatch.setattr(batch, "grade_class", lambda **options: called.update(options))
    batch.recheck_class(out=out, recheck=["q3.r2.*"], hidden=False, workers=2)  # hidden=False: the flag left out
    assert called["hidden"] is True and called["class_dir"] == "/class" and called["questions"] == ["q3"]
    assert called["recheck"] == ["q3.r2.*"] and called["workers"] == 2
