"""Speed of `hw3grade rescore` on a class of 200 made from the samples' real results (benchmarks/bench.py
--only rescore; not a test).

The samples below are graded once (every question, or --questions), as a self-check; their results JSON
(observations included) are copied round-robin into a class of --rescore-students students, which is
published once as a batch leaves it. Then the class is rescored --repeats times, alternating between two
rubrics with other points and a check made hidden: each rescore judges every check of every student
again and rewrites every output. Prints the seconds of each rescore and their median.
Target (../shared/DESIGN.md): a class of 200 in under 10 s on the 2-core machine.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.measure import grade_once
from graders.commands.outfolder import ClassSettings, stored_results, write_settings
from graders.commands.publish import publish_class
from graders.commands.rescore import rescore_class
from graders.core.results import from_json, read_json, write_json
from graders.core.rubric import DEFAULT_RUBRIC, Rubric
from graders.term.marks import Marks

PROJECT = Path(__file__).resolve().parents[1]
SAMPLES = ["reference", "typical_mistakes", "placeholder_answers", "q4_q5_numpy_and_lists", "bn_unbiased_variance",
           "gradcam_no_relu", "regressor_sigmoid_kept", "q1_sgd_optimizer"]
# Judged edits only, in two rubrics the rescores alternate between: points, and a check hidden in both (hiding
# is judged; showing again a check a self-check never ran is not). Observed settings are left alone: a rescore
# refuses a change of them, which is not what is timed here.
EDITS = ({'"conv.valid"': "3", "dense": "0.5", '"gru.reset_after"': "{ points = 2, hidden = true }",
          '"table.layer*"': "2", '"train.budget"': "3", "inference": "3", '"cnn.train"': "3", '"r2.linear"': "3"},
         {'"conv.valid"': "2", "dense": "1", '"gru.reset_after"': "{ points = 1, hidden = true }",
          '"table.layer*"': "1", '"train.budget"': "2", "inference": "1", '"cnn.train"': "1", '"r2.linear"': "1"})


def changed_rubric(path: Path, edits: dict[str, str]) -> Path:
    """The default rubric with `edits` applied (each key once in the file)."""
    text = DEFAULT_RUBRIC.read_text(encoding="utf-8")
    for key, value in edits.items():
        text, count = re.subn(rf"(?m)^{re.escape(key)} = [^#\n]*", f"{key} = {value} ", text)
        assert count == 1, f"rubric key {key!r} found {count} times"
    path.write_text(text, encoding="utf-8")
    return path


def cpu_seconds() -> float:
    """CPU seconds of this process and of its children that have ended (the rescore's worker processes)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def graded_samples(questions: list[str]) -> list:
    """Each sample's results JSON (as its own grading wrote it)."""
    results = []
    for sample in SAMPLES:
        source = PROJECT / "reference" if sample == "reference" else PROJECT / "submissions" / sample
        seconds, data = grade_once(source, questions)
        print(f"  graded {sample} in {seconds:.0f} s")
        results.append(data)
    return results


def rescore(questions: list[str], students: int, repeats: int, results_from: str | None = None) -> None:
    """Grade the samples (or read results JSON from `results_from`), make and publish the class, then time
    `repeats` rescores of it: wall seconds, and CPU seconds of this process and its children (the figure
    another load on the machine does not change)."""
    with tempfile.TemporaryDirectory(prefix="hw3bench-rescore-") as scratch:
        if results_from:
            samples = [read_json(path) for path in sorted(Path(results_from).glob("*.json"))]
            print(f"rescore: {len(samples)} results from {results_from} for a class of {students}")
        else:
            print(f"rescore: grading {len(SAMPLES)} samples for a class of {students}")
            samples = [from_json(data) for data in graded_samples(questions)]
        out = Path(scratch) / "out"
        for index in range(students):
            write_json(samples[index % len(samples)], out / "students" / f"{10000 + index}" / "results.json")
        write_settings(out, ClassSettings(class_dir=str(Path(scratch) / "class")))
        publish_class(out, stored_results(out), rubric=Rubric.load(), marks=Marks(), command="batch")
        size = sum(p.stat().st_size for p in out.glob("students/*/results.json"))
        rubrics = [changed_rubric(Path(scratch) / f"changed-{n}.toml", edits) for n, edits in enumerate(EDITS)]
        seconds, cpu = [], []
        for run in range(repeats):
            started, used = time.perf_counter(), cpu_seconds()
            summary = rescore_class(out=out, rubric=str(rubrics[run % 2]))
            seconds.append(time.perf_counter() - started)
            cpu.append(cpu_seconds() - used)
            changed_students = len(summary.published.changes.students) if summary.published.changes else 0
            print(f"  rescore {run + 1}: {seconds[-1]:.2f} s wall, {cpu[-1]:.2f} s CPU, {changed_students} students "
                  f"changed, {len(summary.published.changes.rubric_lines) if summary.published.changes else 0} "
                  f"rubric lines; load average {os.getloadavg()[0]:.1f}")
        print(f"rescore of {students} students ({size / 2**20:.0f} MiB of results JSON): median "
              f"{statistics.median(seconds):.2f} s wall, {statistics.median(cpu):.2f} s CPU over {repeats} "
              f"(target: under 10 s on {os.cpu_count()} cores)")
        shutil.rmtree(out, ignore_errors=True)
