"""`hw3grade batch`: a class graded in parallel, resumable, on this machine and on a Dask cluster."""

import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from graders.commands.batch import discover, grade_class
from tests.grading import PROJECT, sample_path, write_rubric

pytestmark = pytest.mark.slow  # grades in a subprocess, starts workers or trains

QUESTIONS = ["q4", "q5"]  # the quick questions: the batch machinery is what is under test
EXPECTED_TOTAL = {"reference": 24, "typical_mistakes": 17, "empty": 0, "syntax_error": 0, "notebook": 24,
                  "malicious/infinite_loop": 10}


def make_class(folder: Path, count: int) -> dict[str, int]:
    """`count` submissions cycling through the samples, in LMS-style names; returns id -> expected total."""
    folder.mkdir()
    samples, expected = list(EXPECTED_TOTAL), {}
    for index in range(count):
        sample = samples[index % len(samples)]
        student = f"{1000 + index}"
        source = sample_path(sample)
        if sample == "notebook":
            shutil.copy(source / "hw3.ipynb", folder / f"{student}_Student {index}_hw3.ipynb")
        else:
            shutil.copytree(source, folder / f"{student}_Student {index}")
        expected[student] = EXPECTED_TOTAL[sample]
    return expected


@pytest.fixture
def fast_rubric(tmp_path):
    return str(write_rubric(tmp_path / "rubric.toml", {"call_timeout_s": 3}))


class Counter:
    def __init__(self):
        self.graded = []

    def __call__(self, student):
        self.graded.append(student)


def totals(out: Path) -> dict[str, float]:
    with open(out / "gradebook.csv", newline="") as handle:
        return {row["id"]: float(row["total"]) for row in csv.DictReader(handle)}


def test_student_ids_follow_lms_layouts(tmp_path):
    for name in ("12345_Jane Doe", "__MACOSX", ".DS_Store"):
        (tmp_path / name).mkdir()
    for name in ("alice.py", "bob_late_hw3.ipynb", "carol.zip", "notes.txt"):
        (tmp_path / name).write_text("")
    assert [(e.student_id, e.path.name) for e in discover(tmp_path)] == [
        ("12345", "12345_Jane Doe"), ("alice", "alice.py"), ("bob", "bob_late_hw3.ipynb"), ("carol", "carol.zip")]


def test_resubmissions_of_one_student_are_both_kept(tmp_path):
    for name in ("alice_v1.py", "alice_v2.py"):
        (tmp_path / name).write_text("")
    assert [e.student_id for e in discover(tmp_path)] == ["alice_v1", "alice_v2"]


def test_a_class_grades_with_two_workers_and_a_rerun_grades_nothing(tmp_path, fast_rubric):
    expected = make_class(tmp_path / "class", 20)
    out, first = tmp_path / "out", Counter()
    grade_class(class_dir=tmp_path / "class", out=out, workers=2, questions=QUESTIONS, rubric=fast_rubric,
                progress=first)
    assert sorted(first.graded) == sorted(expected)
    assert totals(out) == expected, "a hostile student in the class changed nobody else's grade"
    for student in expected:
        for name in ("results.json", "report.html", "gradescope.json"):
            assert (out / "students" / student / name).exists()
    index = (out / "index.html").read_text()
    linked = set(re.findall(r'href="students/([^/"]+)/', index))  # the students table, and the names under each mistake
    assert linked == set(expected) and "q5.same_padding.strided" in index
    again = Counter()
    summary = grade_class(class_dir=tmp_path / "class", out=out, workers=2, questions=QUESTIONS, rubric=fast_rubric,
                          progress=again)
    assert again.graded == [] and (summary.graded, summary.unchanged) == (0, 20)
    assert summary.describe(out).startswith("0 graded, 20 unchanged (skipped) of 20 submissions")


def test_a_killed_batch_resumes_without_regrading(tmp_path, fast_rubric):
    expected = make_class(tmp_path / "class", 8)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "graders.commands.cli", "batch", str(tmp_path / "class"), "--out", str(out),
               "--workers", "1", "--rubric", fast_rubric, "--questions", *QUESTIONS]
    process = subprocess.Popen(command, cwd=PROJECT, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while len(list(out.glob("students/*/meta.json"))) < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    done = {path.parent.name for path in out.glob("students/*/meta.json")}
    assert 3 <= len(done) < 8, "the batch should have been killed midway"
    resumed = Counter()
    grade_class(class_dir=tmp_path / "class", out=out, workers=2, questions=QUESTIONS, rubric=fast_rubric,
                progress=resumed)
    assert sorted(resumed.graded) == sorted(set(expected) - done)
    assert totals(out) == expected


def test_a_dask_cluster_grades_the_same(tmp_path, fast_rubric):
    distributed = pytest.importorskip("distributed")
    expected = make_class(tmp_path / "class", 4)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        grade_class(class_dir=tmp_path / "class", out=tmp_path / "out", scheduler=cluster.scheduler_address,
                    questions=QUESTIONS, rubric=fast_rubric)
    assert totals(tmp_path / "out") == expected


def test_a_hidden_batch_keeps_one_secret_seed_for_the_class_and_shows_it_to_no_student(tmp_path):
    make_class(tmp_path / "class", 2)
    out = tmp_path / "out"
    grade_class(class_dir=tmp_path / "class", out=out, workers=1, questions=["q4"], hidden=True)
    recorded = json.loads((out / "seed.json").read_text())
    assert recorded["hidden"] is True and recorded["seed"] >= 2**20
    assert oct((out / "seed.json").stat().st_mode & 0o777) == "0o600"
    seed = str(recorded["seed"])
    for student in ("1000", "1001"):
        assert json.loads((out / "students" / student / "results.json").read_text())["seed"] == recorded["seed"]
        assert (out / "students" / student / "results.json").stat().st_mode & 0o077 == 0, "it holds the secret seed"
        assert seed not in (out / "students" / student / "report.html").read_text()
        assert seed not in (out / "students" / student / "gradescope.json").read_text()
    (tmp_path / "class" / "1002_late.py").write_text("def dense_params(a, b):\n    return a * b + b\n")
    grade_class(class_dir=tmp_path / "class", out=out, workers=1, questions=["q4"], hidden=True)
    late = json.loads((out / "students" / "1002" / "results.json").read_text())
    assert late["seed"] == recorded["seed"], "a resumed batch grades the rest of the class with the same seed"
    with pytest.raises(ValueError, match="records seed"):
        grade_class(class_dir=tmp_path / "class", out=out, questions=["q4"], hidden=True, seed=5)


def test_batch_as_root_without_bubblewrap_is_refused_unless_process_is_asked_for(tmp_path, monkeypatch, capsys):
    from graders.commands import cli
    from graders.sandbox import isolation

    monkeypatch.setattr(isolation, "running_as_root", lambda: True)
    monkeypatch.setattr(isolation, "bubblewrap_works", lambda: False)
    (tmp_path / "class").mkdir()
    assert cli.main(["batch", str(tmp_path / "class"), "--out", str(tmp_path / "out")]) == 4
    assert "--isolation process" in capsys.readouterr().err
    assert cli.main(["batch", str(tmp_path / "class"), "--out", str(tmp_path / "out"), "--isolation", "process",
                     "--no-similarity"]) == 0
