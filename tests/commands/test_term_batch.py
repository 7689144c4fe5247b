"""A class during the term, graded for real (q4 and q5: they grade in seconds): a rescore gives what a fresh
batch under the new rubric gives, in every output; a batch after a rubric change judges again or reruns only
the checks whose observations it changes; `hw3grade batch OUT --recheck` reruns only the checks named."""

import csv
import json
import re
import shutil

import pytest

from graders.commands import cli
from graders.commands.batch import grade_class
from graders.commands.rescore import RescoreRefused, rescore_class
from graders.core.results import read_json
from graders.core.rubric import DEFAULT_RUBRIC, Rubric
from tests.grading import sample_path, write_rubric
from tests.harness.test_rescore import JUDGED_CHANGES, comparable

pytestmark = pytest.mark.slow  # grades in worker processes

QUESTIONS = ["q4", "q5"]
CLASS = {"1001": "reference", "1002": "typical_mistakes", "1003": "q4_q5_numpy_and_lists",
         "1004": "placeholder_answers"}


def make_class(folder, students=CLASS):
    for student, sample in students.items():
        shutil.copytree(sample_path(sample), folder / f"{student}_{sample}",
                        ignore=shutil.ignore_patterns("__pycache__"))
    return folder


def batch(class_dir, out, **options):
    return grade_class(class_dir=class_dir, out=out, workers=2, questions=QUESTIONS, similarity=False,
                       progress=lambda student: None, **options)


def outputs(out) -> dict:
    """What a student and the LMS see of each grade: verdicts, gradebook, Gradescope, the report's questions."""
    seen = {"gradebook": (out / "gradebook.csv").read_text()}
    for folder in sorted((out / "students").iterdir()):
        gradescope = json.loads((folder / "gradescope.json").read_text())
        report = (folder / "report.html").read_text()
        seen[folder.name] = (comparable(read_json(folder / "results.json")), gradescope["score"], gradescope["tests"],
                             re.findall(r'<section class="question".*?</section>', report, re.S),
                             re.search(r'<section id="grade">.*?</section>', report, re.S).group(0))
    return seen


def test_a_rescore_is_a_fresh_batch_under_the_new_rubric_and_a_batch_back_reruns_only_what_it_must(tmp_path):
    class_dir = make_class(tmp_path / "class")
    graded = batch(class_dir, tmp_path / "a")
    first = outputs(tmp_path / "a")
    assert {g.student: g.total for g in graded.grades} == {"1001": 24, "1002": 17, "1003": 24, "1004": 0}
    changed = write_rubric(tmp_path / "changed.toml", JUDGED_CHANGES)
    rescore_class(out=tmp_path / "a", rubric=str(changed))
    fresh = batch(class_dir, tmp_path / "b", rubric=str(changed))
    assert outputs(tmp_path / "a") == outputs(tmp_path / "b")
    assert fresh.graded == 4
    # Back to the default rubric: the check the changed one hid was never observed; only it runs again.
    back = batch(class_dir, tmp_path / "a", rubric=str(DEFAULT_RUBRIC))
    assert (back.graded, back.rechecked, back.rejudged, back.unchanged) == (0, 4, 0, 0)
    assert outputs(tmp_path / "a") == first
    (run,) = [p for p in (tmp_path / "a" / "history").iterdir() if p.name.startswith("002-")]
    with open(run / "changes.csv", newline="") as handle:
        why = {(row["student"], row["item"]): row["why"] for row in csv.DictReader(handle)}
    assert why[("1001", "q4.gru.reset_after")] == \
        're-run; [q4.checks] "gru.reset_after": { points = 2, hidden = true } -> 1'
    assert why[("1001", "q5.conv.valid")] == '[q5.checks] "conv.valid": 3 -> 1'


def test_a_recheck_runs_only_the_checks_named_and_gives_a_fresh_batchs_result(tmp_path, capsys):
    class_dir = make_class(tmp_path / "class", {"1001": "reference", "1002": "typical_mistakes"})
    batch(class_dir, tmp_path / "a")
    before = {s: read_json(tmp_path / "a" / "students" / s / "results.json") for s in ("1001", "1002")}
    more_cases = tmp_path / "cases.toml"  # q5's random cases per check: 12 -> 20
    more_cases.write_text(DEFAULT_RUBRIC.read_text().replace("cases = 12               # random cases per check",
                                                             "cases = 20  #", 1))
    with pytest.raises(RescoreRefused) as refused:
        rescore_class(out=tmp_path / "a", rubric=str(more_cases))
    assert set(refused.value.checks) == {c.id for q in before["1001"].questions for c in q.checks
                                         if c.id.startswith(("q5.conv", "q5.pool", "q5.same_padding"))}
    assert cli.main(["batch", str(tmp_path / "a"), "--rubric", str(more_cases), "--recheck", "q5.conv.*",
                     "q5.pool.*", "q5.same_padding.*"]) == 0
    assert capsys.readouterr().out.startswith("0 graded, 2 rechecked, 0 unchanged (skipped) of 2 submissions")
    batch(class_dir, tmp_path / "b", rubric=str(more_cases))
    for student in ("1001", "1002"):
        rechecked = read_json(tmp_path / "a" / "students" / student / "results.json")
        fresh = read_json(tmp_path / "b" / "students" / student / "results.json")
        assert comparable(rechecked) == comparable(fresh)
        old, new = ({c.id: c for q in r.questions for c in q.checks} for r in (before[student], fresh))
        for check in (c for q in rechecked.questions for c in q.checks):
            if check.id.startswith(("q5.conv", "q5.pool", "q5.same_padding")):  # observed again, with 20 cases
                assert check.observations == new[check.id].observations, check.id
            else:  # kept as stored: not run again
                assert check == old[check.id], check.id
        assert rechecked.rubric["sha256"] == Rubric.load(more_cases).sha256
