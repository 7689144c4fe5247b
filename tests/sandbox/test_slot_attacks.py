"""The attack suite through a batch's worker slots: every hostile sample under submissions/malicious/ is graded
by `hw3grade batch` (2 workers, so 2 slots whose zygotes fork every worker) and must end as it does graded
alone (tests/sandbox/test_attacks.py): its golden, nothing written outside the sandbox, no process, cgroup
or folder left, another grading's cgroup untouched. Samples that share their questions and rubric are one
class; classmates graded before or beside a sample in the same slot are the other attacks.
"""

import json
import os
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from graders.core.paths import PROJECT_ROOT
from tests.grading import assert_matches_golden, golden_samples, load_golden, sample_path, write_rubric
from tests.sandbox.test_attacks import (  # noqa: F401 - fixtures
    BYSTANDER_LIMITS,
    bystander,
    leftovers,
    loopback_listener,
    one_budget_per_function,
    one_timeout_per_function,
    planted,
    project_hashes,
    read_limit,
)
from tests.sandbox.test_slots import slots_work

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not slots_work(), reason="worker slots need root, bubblewrap "
                                                                            "and cgroups (as CI has)")]


def classes() -> dict[str, tuple[list[str], dict, list[str]]]:
    """The attacks grouped by what they are graded with: {name: (questions, rubric overrides, samples)}."""
    grouped = defaultdict(list)
    for sample in golden_samples():
        if sample.startswith("malicious/"):
            goldens, options = load_golden(sample)
            grouped[(tuple(sorted(goldens)), json.dumps(options.get("rubric") or {}, sort_keys=True))].append(sample)
    return {f"{'+'.join(questions)}-{index}": (list(questions), json.loads(rubric), samples)
            for index, ((questions, rubric), samples) in enumerate(sorted(grouped.items()))}


CLASSES = classes()


def q5_one_timeout_per_function(result: dict) -> None:
    """test_attacks.py's check on q5's checks: q4's first check may also wait, for its slot's zygote to have
    imported TensorFlow (the first student of a slot waits for that import, as a fresh worker would make it)."""
    q5 = [question for question in result["questions"] if question["id"] == "q5"]
    one_timeout_per_function({**result, "questions": q5})


# Checks of test_attacks.py that read the result alone (the others read a single grading's terminal output).
EXTRA_CHECKS = {"malicious/q5_loops_forever": [q5_one_timeout_per_function],
                "malicious/slow_every_call": [one_budget_per_function]}


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_attacks_are_contained_in_worker_slots(name, tmp_path, short_tmp, loopback_listener, bystander):  # noqa: F811
    questions, overrides, samples = CLASSES[name]
    if bystander is None:
        pytest.skip("worker slots need cgroups")
    scratch, class_dir, out = short_tmp, tmp_path / "class", tmp_path / "out"
    class_dir.mkdir()
    students = {}
    for number, sample in enumerate(samples, 1):
        student = f"{number:02d}"
        students[student] = sample
        source = sample_path(sample)
        target = class_dir / f"{student}_{source.name}"
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, target)
    rubric = write_rubric(tmp_path / "rubric.toml", {**overrides, "worker_slots": "true"})
    before = project_hashes()
    batch = subprocess.run([str(Path(sys.executable).parent / "hw3grade"), "batch", str(class_dir), "--out", str(out),
                            "--workers", "2", "--questions", *questions, "--rubric", str(rubric), "--no-similarity"],
                           cwd=PROJECT_ROOT, env={**os.environ, "TMPDIR": str(scratch)}, capture_output=True,
                           text=True, timeout=1500)
    assert (out / "gradebook.csv").exists(), batch.stdout[-3000:] + batch.stderr[-3000:]
    for student, sample in students.items():
        result = json.loads((out / "students" / student / "results.json").read_text())
        assert result["isolation"].startswith(("bubblewrap", "none")), sample
        if result["worker"]:  # a worker ran (none for a submission the loader refused): forked by its slot
            assert result["worker"]["forked"] == result["worker"]["starts"] > 0, (sample, result["worker"])
        try:
            assert_matches_golden(result, load_golden(sample)[0])
        except AssertionError as error:
            raise AssertionError(f"{sample} graded in a worker slot: {error}") from None
        for check in EXTRA_CHECKS.get(sample, ()):
            check(result)
    after = leftovers(scratch)
    assert after["sandboxes"] == [] and after["cgroups"] == [] and after["processes"] == [], after
    assert after["sentinels"] == [], f"written outside the sandbox: {after['sentinels']}"
    assert loopback_listener == [], "the sandbox reached a port of the host"
    assert planted(before, project_hashes()) == [], "an attack wrote into the project"
    assert bystander.pids() == set() and bystander.memory_limit() == BYSTANDER_LIMITS["memory_bytes"]
    assert read_limit(bystander, "pids.max") == str(BYSTANDER_LIMITS["max_processes"])
    assert not any(Path(scratch).glob("*-slot-*")), "a slot's folder outlived its batch"
