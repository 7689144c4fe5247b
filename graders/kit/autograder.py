"""Gradescope's `run_autograder`: grade /autograder/submission with the hidden checks, write results.json.

Run in Gradescope's container as `python -m graders.kit.autograder --root /autograder` (the zip's
run_autograder script). The student's files are graded with `--hidden`, the zip's rubric and its seed
policy (graders/kit/gradescope.py); results.json is today's Gradescope export (reports/gradescope.py): the
student sees each visible check's message and points, never the seed nor an answer that does not depend on
it. The seed, the isolation and how to reproduce the grading go to a test that only instructors see
(visibility "hidden"). Where bubblewrap cannot run in the container, the grader says so in its log (the
instructors' stdout) and relies on the container; the results' isolation says which ran.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from graders.core.options import GradingOptions
from graders.core.paths import PROJECT_ROOT
from graders.core.results import write_text_atomically
from graders.harness.run import grade
from graders.sandbox.isolation import bubblewrap_works

SOURCE_SUFFIXES = (".py", ".ipynb", ".zip")
CONTAINER_ONLY = ("bubblewrap cannot run in this container: each submission runs as a plain process, confined by "
                  "Gradescope's container only (the results' isolation says so)")


def run_autograder(root: Path) -> int:
    """Grade `root`/submission into `root`/results/results.json; 0 once a results file is written."""
    results = root / "results"
    results.mkdir(parents=True, exist_ok=True)
    output = results / "results.json"
    seed = class_seed(root / "source")
    submission = submission_of(root / "submission")
    print(f"grading {submission} with the grader in {PROJECT_ROOT}, hidden checks included, "
          f"{'the class seed' if seed is not None else 'a fresh secret seed'}", flush=True)
    isolation = "auto"
    if not bubblewrap_works():
        print(CONTAINER_ONLY, flush=True)
        isolation = "process"  # said here; the grade command would only warn, as a TA's run does
    with tempfile.TemporaryDirectory(prefix="hw3-autograder-") as scratch:
        options = GradingOptions(submission=str(submission), hidden=True, seed=seed,
                                 isolation=isolation, gradescope_path=str(output),
                                 json_path=str(Path(scratch) / "results.json"),
                                 report_path=str(Path(scratch) / "report.html"), extra_args=("-q",))
        try:
            graded = grade(options)
        except Exception as exc:  # noqa: BLE001 - whatever happened, Gradescope gets a results file
            print(f"the grading failed: {type(exc).__name__}: {exc}", flush=True)
            graded = None
        if graded is None or graded.data is None or not output.is_file():
            write_failure(output)
            return 0
        add_grading_record(output, graded.data)
    return 0


def class_seed(source: Path) -> int | None:
    """The zip's class seed (policy "class"), or None: a fresh secret seed for this submission."""
    policy = json.loads((source / "autograder.json").read_text(encoding="utf-8"))["seed_policy"]
    if policy != "class":
        return None
    return int(json.loads((source / "seed.json").read_text(encoding="utf-8"))["seed"])


def submission_of(folder: Path) -> Path:
    """What the student uploaded: its one notebook, .py or .zip, else the whole folder."""
    sources = [path for path in folder.iterdir() if path.is_file() and path.suffix in SOURCE_SUFFIXES] \
        if folder.is_dir() else []
    return sources[0] if len(sources) == 1 else folder


def add_grading_record(output: Path, data: dict) -> None:
    """Add the instructors-only test: the seed, the isolation and the command that reproduces the grading."""
    document = json.loads(output.read_text(encoding="utf-8"))
    record = (f"Seed {data.get('seed')} (rerun: hw3grade grade SUBMISSION --hidden --seed {data.get('seed')}); "
              f"isolation {data.get('isolation')}; {data.get('duration_s')} s; worker {data.get('worker')}; "
              f"versions {data.get('versions')}.")
    document.setdefault("tests", []).append({"name": "grading record (instructors only)", "score": 0, "max_score": 0,
                                             "status": "passed", "output": record, "visibility": "hidden"})
    write_text_atomically(output, json.dumps(document, indent=2) + "\n")


def write_failure(output: Path) -> None:
    """A results file for a grading that left none: score 0, and a word for the student and the TA."""
    document = {"score": 0, "output": "The autograder could not grade this submission: please tell your TA.",
                "output_format": "text", "visibility": "visible", "stdout_visibility": "hidden", "tests": []}
    write_text_atomically(output, json.dumps(document, indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="run_autograder", description="Gradescope's run_autograder for HW3.")
    parser.add_argument("--root", default="/autograder", help="Gradescope's folder (default /autograder)")
    return run_autograder(Path(parser.parse_args(argv).root))


if __name__ == "__main__":
    sys.exit(main())
