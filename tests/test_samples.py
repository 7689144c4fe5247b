"""Every sample submission is graded, and must match its golden results.

A golden (tests/golden/<sample>/<question>.json) pins each check's status and the scores,
plus substrings that a failed check's message must contain, so a wrong answer loses exactly
its own checks with a message that names the mistake.

The samples are graded as a TA grades a class: `hw3grade batch` with 2 workers, one class per set of
questions and rubric, so every sample also goes through the batch's path (run by root with bubblewrap:
worker slots whose zygote imported TensorFlow once and forks each student's worker). A single grading
of a sample, as a student's self-check runs it, must give the same: tests/harness/test_rescore.py,
tests/sandbox/test_attacks.py and tests/kit/test_verdicts.py grade samples alone against the same goldens.
"""

import json
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from graders.core.paths import PROJECT_ROOT
from tests.grading import assert_matches_golden, golden_samples, load_golden, sample_path, write_rubric

pytestmark = pytest.mark.slow  # grades in subprocesses, starts workers and trains (one xdist group: tests/conftest.py)

# The hostile samples run in tests/sandbox/test_attacks.py and test_slot_attacks.py, with their containment checks.
SAMPLES_WITH_GOLDENS = [sample for sample in golden_samples() if not sample.startswith("malicious/")]


def classes(samples: list[str]) -> list[tuple[list[str], dict, list[str]]]:
    """The samples grouped by what they are graded with: [(questions, rubric overrides, samples)]."""
    grouped = defaultdict(list)
    for sample in samples:
        goldens, options = load_golden(sample)
        grouped[(tuple(sorted(goldens)), json.dumps(options.get("rubric") or {}, sort_keys=True))].append(sample)
    return [(list(questions), json.loads(rubric), members) for (questions, rubric), members in sorted(grouped.items())]


def grade_class(folder: Path, questions: list[str], overrides: dict, samples: list[str]) -> dict[str, tuple]:
    """{sample: (results JSON or None, its report, the batch's output)} of one `hw3grade batch`."""
    class_dir, out = folder / "class", folder / "out"
    class_dir.mkdir(parents=True)
    students = {}
    for number, sample in enumerate(samples, 1):
        source = sample_path(sample)
        target = class_dir / f"{number:02d}_{source.name}"
        students[f"{number:02d}"] = sample
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, target)
    rubric = ["--rubric", str(write_rubric(folder / "rubric.toml", overrides))] if overrides else []
    batch = subprocess.run([str(Path(sys.executable).parent / "hw3grade"), "batch", str(class_dir), "--out", str(out),
                            "--workers", "2", "--questions", *questions, *rubric, "--no-similarity"],
                           cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=3600)
    graded = {}
    for student, sample in students.items():
        results = out / "students" / student / "results.json"
        data = json.loads(results.read_text()) if results.exists() else None
        graded[sample] = (data, results.with_name("report.html"), batch.stdout[-3000:] + batch.stderr[-3000:])
    return graded


@pytest.fixture(scope="module")
def gradings(request, tmp_path_factory) -> dict[str, tuple]:
    """Every sample this run selected, graded (see the module's docstring)."""
    selected = [item.callspec.params["sample"] for item in request.session.items
                if item.originalname == "test_sample_matches_golden" and item.module is request.module]
    root = tmp_path_factory.mktemp("samples")
    graded = {}
    for number, (questions, overrides, samples) in enumerate(classes(selected)):
        graded.update(grade_class(root / f"class{number}", questions, overrides, samples))
    return graded


@pytest.mark.parametrize("sample", SAMPLES_WITH_GOLDENS)
def test_sample_matches_golden(sample, gradings):
    goldens, _ = load_golden(sample)
    result, report, output = gradings[sample]
    assert result is not None, f"no results JSON written:\n{output}"
    assert report.exists()
    if result["worker"]:  # a worker ran (none for a submission the loader refused)
        assert result["worker"]["starts"] > 0
    assert_matches_golden(result, goldens)
