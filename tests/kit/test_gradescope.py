"""Gradescope's autograder zip: its files, and its run_autograder grading a sample in a Gradescope-shaped folder.

The folder is laid out as Gradescope's (/autograder: source/ holding the zip's contents, run_autograder,
submission/, results/), its root given by AUTOGRADER_ROOT; the virtualenv setup.sh would make is this one
(HW3_AUTOGRADER_PYTHON), and the grader that runs is the zip's own copy (run_autograder starts it there).
"""

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile

import pytest

from graders.kit.gradescope import build_autograder
from tests.grading import SAMPLES

TABLE_CELLS = ("(256, 256, 64)", "51232", "819328")


def test_the_zip_holds_setup_run_autograder_the_grader_and_the_seed_policy(tmp_path):
    built = build_autograder(out=tmp_path, seed_policy="class")
    with zipfile.ZipFile(built.path) as archive:
        names = set(archive.namelist())
        modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
        policy = json.loads(archive.read("autograder.json"))
        seed = json.loads(archive.read("seed.json"))["seed"]
        setup = archive.read("setup.sh").decode()
    assert {"setup.sh", "run_autograder", "hw3grader/pyproject.toml", "hw3grader/graders/rubric.toml",
            "hw3grader/reference/q5_shapes.py", "hw3grader/graders/kit/autograder.py"} <= names
    assert modes["setup.sh"] & stat.S_IXUSR and modes["run_autograder"] & stat.S_IXUSR and modes["seed.json"] == 0o600
    assert policy == {"seed_policy": "class"} and seed.bit_length() > 32
    assert "bubblewrap" in setup and "pip install -q -e" in setup
    assert not [name for name in names if "__pycache__" in name or "/out/" in name or "/recorded/" in name]
    fresh = build_autograder(out=tmp_path / "fresh")
    with zipfile.ZipFile(fresh.path) as archive:
        assert "seed.json" not in archive.namelist()


@pytest.mark.slow  # a hidden grading of a whole submission
def test_run_autograder_grades_a_submission_into_results_json(tmp_path):
    root = tmp_path / "autograder"
    with zipfile.ZipFile(build_autograder(out=tmp_path).path) as archive:
        archive.extractall(root / "source")
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    (root / "run_autograder").chmod(0o755)
    (root / "submission").mkdir()
    shutil.copy(SAMPLES / "typical_mistakes" / "hw3.py", root / "submission" / "hw3.py")
    environment = {**os.environ, "AUTOGRADER_ROOT": str(root), "HW3_AUTOGRADER_PYTHON": sys.executable}
    run = subprocess.run([str(root / "run_autograder")], cwd=root, env=environment, capture_output=True, text=True,
                         timeout=1800)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    results = json.loads((root / "results" / "results.json").read_text())
    tests = {test["name"].rpartition("[")[2].rstrip("]"): test for test in results["tests"]}
    assert tests["q5.conv.valid"]["score"] == 0 and tests["q5.conv.same"]["score"] == tests["q5.conv.same"]["max_score"]
    assert tests["q4.conv2d"]["status"] == "failed" and tests["q4.dense"]["status"] == "passed"
    record = tests["grading record (instructors only)"]
    assert record["visibility"] == "hidden" and "--hidden --seed" in record["output"]
    seed = record["output"].split()[1]
    visible = json.dumps([results["output"], *[t for t in results["tests"] if t["visibility"] != "hidden"]])
    assert seed not in visible and "a secret seed" in results["output"], "the seed is the TA's"
    assert not [cell for cell in TABLE_CELLS if cell in visible], "no answer that does not depend on the seed"
    assert results["score"] == sum(t["score"] for t in results["tests"]) > 0
    assert str(root / "source" / "hw3grader") in run.stdout, "the zip's own grader ran"
