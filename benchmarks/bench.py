"""The grader's speed and memory figures (run by hand; not a test).

    python benchmarks/bench.py                    # everything, all questions
    python benchmarks/bench.py --questions q4 q5  # a quick run

Prints:
  - seconds per whole submission (median of --repeats) and per question (from per-check times);
  - the sandbox worker's peak RSS;
  - throughput of `hw3grade batch` with 1 and with 2 workers, and their ratio;
  - the machinery's overhead: the same checks with the sandbox vs run directly in-process;
  - a notebook graded by executing it with nbclient (how notebook graders work) vs this harness.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from graders.commands.batch import grade_class  # noqa: E402
from graders.harness.options import GradingOptions  # noqa: E402
from graders.harness.run import grade_in_subprocess  # noqa: E402
from graders.sandbox.direct import ENABLE as DIRECT_SWITCH  # noqa: E402

SAMPLES = PROJECT / "submissions"
REFERENCE = PROJECT / "reference"


def grade_once(submission: Path, questions: list[str], *, isolation: str = "auto") -> tuple[float, dict]:
    """Wall seconds and results JSON of one `pytest graders` run on `submission`."""
    options = GradingOptions(submission=str(submission), questions=tuple(questions), threads=os.cpu_count() or 1,
                             isolation=isolation, extra_args=("-q",))
    env = {DIRECT_SWITCH: "1"} if isolation == "direct" else {}
    started = time.perf_counter()
    graded = grade_in_subprocess(options, timeout_s=1800, env=env)
    if graded.data is None:
        raise RuntimeError(f"grading {submission} wrote no results:\n{graded.output[-3000:]}")
    return time.perf_counter() - started, graded.data


def per_question_seconds(result: dict) -> dict[str, float]:
    return {q["id"]: sum(c.get("duration_s", 0.0) for c in q["checks"]) for q in result["questions"]}


def whole_submission(questions: list[str], repeats: int) -> dict:
    runs = [grade_once(REFERENCE, questions) for _ in range(repeats)]
    walls = [wall for wall, _ in runs]
    per_question = {q: statistics.median(per_question_seconds(r)[q] for _, r in runs)
                    for q in per_question_seconds(runs[0][1])}
    result = runs[-1][1]
    print(f"whole submission (reference, {repeats} runs): median {statistics.median(walls):.1f} s "
          f"(runs: {', '.join(f'{w:.1f}' for w in walls)}); score {result['score']:g}/{result['max_score']:g}")
    for question, seconds in per_question.items():
        print(f"  {question}: {seconds:.1f} s (median; the first question also pays the worker's start)")
    worker = result.get("worker", {})
    print(f"worker: peak RSS {worker.get('peak_rss_mb', 0):.0f} MB, load {worker.get('load_s', 0):.1f} s, "
          f"starts {worker.get('starts')}; isolation {result['isolation']}")
    return {"median_s": statistics.median(walls), "checks_s": sum(per_question.values())}


def throughput(questions: list[str], class_size: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        class_dir = Path(scratch) / "class"
        class_dir.mkdir()
        for index in range(class_size):
            sample = ("reference", "typical_mistakes")[index % 2]
            shutil.copytree(REFERENCE if sample == "reference" else SAMPLES / sample, class_dir / f"{index:03d}_{sample}")
        rates = {}
        for workers in (1, 2):
            started = time.perf_counter()
            grade_class(class_dir=class_dir, out=Path(scratch) / f"out{workers}", workers=workers,
                        questions=questions, progress=lambda student: None)
            rates[workers] = class_size / (time.perf_counter() - started) * 60
            print(f"batch of {class_size} with {workers} worker(s): {rates[workers]:.2f} submissions/min")
    print(f"throughput ratio 2 workers / 1 worker: {rates[2] / rates[1]:.2f}x")


def overhead(questions: list[str], repeats: int) -> None:
    sandboxed = [per_question_seconds(grade_once(REFERENCE, questions)[1]) for _ in range(repeats)]
    direct = [per_question_seconds(grade_once(REFERENCE, questions, isolation="direct")[1])
              for _ in range(repeats)]
    boxed_s = statistics.median(sum(r.values()) for r in sandboxed)
    raw_s = statistics.median(sum(r.values()) for r in direct)
    print(f"machinery overhead: checks take {boxed_s:.1f} s sandboxed vs {raw_s:.1f} s run directly in-process "
          f"(ratio {boxed_s / raw_s:.3f}, +{100 * (boxed_s / raw_s - 1):.1f} %)")


def notebook(cell_timeout: int) -> None:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError

    source = SAMPLES / "notebook" / "hw3.ipynb"
    harness_s, _ = grade_once(source.parent, ["q4", "q5"])
    for label, keep_experiments in (("as submitted", True), ("without its experiment cells", False)):
        book = nbformat.read(source, as_version=4)
        if not keep_experiments:
            book.cells = [c for c in book.cells if "3600" not in c.source]
        book.cells.append(nbformat.v4.new_code_cell(CHECK_CELL))
        started = time.perf_counter()
        try:
            NotebookClient(book, timeout=cell_timeout, kernel_name="python3",
                           resources={"metadata": {"path": str(PROJECT)}}).execute()
            bound = ""
        except CellTimeoutError:
            bound = f" (stopped by the {cell_timeout} s cell timeout: a lower bound)"
        seconds = time.perf_counter() - started
        print(f"notebook {label}: nbclient end to end {seconds:.1f} s{bound} vs this harness {harness_s:.1f} s "
              f"(ratio {seconds / harness_s:.2f}x)")


# What an execute-then-test notebook grader appends: the same q4/q5 checks, run in the kernel.
CHECK_CELL = """
import numpy as np
from reference import q4_params as _r4, q5_shapes as _r5
_rng = np.random.default_rng(0)
for _ in range(12):
    k, c, f = int(_rng.integers(1, 8)), int(_rng.integers(1, 257)), int(_rng.integers(1, 257))
    assert conv2d_params(k, c, f) == _r4.conv2d_params(k, c, f)
    assert gru_params(c, f) == _r4.gru_params(c, f) and lstm_params(c, f) == _r4.lstm_params(c, f)
    s, k2, st = int(_rng.integers(8, 65)), int(_rng.integers(1, 8)), int(_rng.integers(1, 5))
    assert conv_output_size(s, k2, st) == _r5.conv_output_size(s, k2, st)
    assert same_padding(s, k2, st) == _r5.same_padding(s, k2, st)
assert LAYER_TABLE == _r5.LAYER_TABLE
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", nargs="+", default=[], help="default: every question")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--class-size", type=int, default=4)
    parser.add_argument("--cell-timeout", type=int, default=120)
    parser.add_argument("--only", nargs="+", choices=["whole", "throughput", "overhead", "notebook"],
                        default=["whole", "throughput", "overhead", "notebook"])
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; questions: {' '.join(args.questions) or 'all'}")
    if "whole" in args.only:
        whole_submission(args.questions, args.repeats)
    if "throughput" in args.only:
        throughput(args.questions, args.class_size)
    if "overhead" in args.only:
        overhead(args.questions, args.repeats)
    if "notebook" in args.only:
        notebook(args.cell_timeout)


if __name__ == "__main__":
    main()
