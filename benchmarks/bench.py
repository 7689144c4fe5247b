"""The grader's speed and memory figures (run by hand; not a test).

    .venv/bin/python benchmarks/bench.py                      # everything
    .venv/bin/python benchmarks/bench.py --only profile whole # some parts
    .venv/bin/python benchmarks/bench.py --questions q4 q5    # a quick run

First measures U, one `import tensorflow` in a fresh process (median of 3), the unit of DESIGN.md's speed
targets; figures are printed in seconds and in U, and the targets measured are summed up at the end.

Prints, each for the self-check and for the TA's hidden grading where it applies:
  - profile: where one submission's seconds go (process start and collection, reading the
    submission, the worker's start with its TensorFlow import, each question's checks, the outputs),
    whether the grading process imported TensorFlow, then each check with its slowest requests (calls
    into the worker, probes, the trusted side's values);
  - whole: seconds per whole reference submission (median of --repeats);
  - throughput: `hw3grade batch` with 1 and 2 workers (submissions a minute, the ratio, the batch's
    peak resident memory against the machine's RAM);
  - overhead: the same checks sandboxed vs run directly in the grading process;
  - hang: a submission whose q5 functions loop forever, graded on q4 and q5;
  - peer: otter-grader (`otter run`, which executes the notebook) vs this harness on the notebook
    sample, as submitted and without its experiment cells;
  - samples: every sample with goldens graded again: scores and check statuses must be identical;
  - kit: the student kit's check() in a real Jupyter kernel (the first call, then each question again; the
    target: under 3 s after the first) and check_all() against a self-check of the same questions;
  - gradescope: run_autograder on the reference in a Gradescope-shaped folder (a hidden grading of every
    question): its wall time and peak memory, what the README's Gradescope settings come from.
  - rescore: `hw3grade rescore` of a class of 200 made from the samples' real results (bench_rescore.py).
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

from benchmarks import bench_rescore  # noqa: E402
from benchmarks.measure import PeakMemory, check_rows, grade_once, machine_ram_bytes, profile_rows, tensorflow_import_s  # noqa: E402
from graders.commands.batch import grade_class  # noqa: E402

SAMPLES = PROJECT / "submissions"
REFERENCE = PROJECT / "reference"
HANG_SAMPLE = SAMPLES / "malicious" / "q5_loops_forever"
HIDDEN_SEED = 987654321987  # a fixed "secret" seed: the hidden figures are warm-cache, as for a class
U: dict[str, float] = {}  # {"s": seconds of one `import tensorflow` in this run}
TARGETS: list[str] = []  # each target measured in this run, with its figure (printed at the end)


def in_u(seconds: float) -> str:
    return f"{seconds / U['s']:.2f} U"


def target(name: str, figure: str, met: bool) -> None:
    TARGETS.append(f"  {'met    ' if met else 'MISSED '} {name}: {figure}")


def profile(questions: list[str]) -> None:
    for label, hidden in (("self-check", False), ("hidden", True)):
        grade_once(REFERENCE, questions, hidden=hidden, seed=HIDDEN_SEED if hidden else None)  # warm the caches
        wall, result = grade_once(REFERENCE, questions, hidden=hidden, seed=HIDDEN_SEED if hidden else None)
        print(f"profile of one reference grading ({label}), {wall:.1f} s wall = {in_u(wall)}:")
        for phase, seconds in profile_rows(result):
            number = seconds.replace(".", "", 1).isdigit()
            print(f"  {phase:<60} {seconds:>8}{f'  {in_u(float(seconds))}' if number and 'MB' not in phase else ''}")
        print(f"  each check ({label}), slowest first, with its slowest requests:")
        for check, seconds, requests in check_rows(result):
            calls = "; ".join(f"{what} x{count} {spent:.2f} s" for what, count, spent in requests)
            print(f"    {check:<34} {seconds:7.2f} s {in_u(seconds):>8}  {calls}")


def whole_submission(questions: list[str], repeats: int) -> None:
    for label, hidden in (("self-check", False), ("hidden", True)):
        runs = [grade_once(REFERENCE, questions, hidden=hidden, seed=HIDDEN_SEED if hidden else None)
                for _ in range(repeats)]
        walls = [wall for wall, _ in runs]
        result = runs[-1][1]
        median = statistics.median(walls)
        print(f"whole reference submission ({label}, {repeats} runs): median {median:.1f} s = {in_u(median)} "
              f"(runs: {', '.join(f'{w:.1f}' for w in walls)}); score {result['score']:g}/{result['max_score']:g}; "
              f"isolation {result['isolation']}")
        most = 5 if hidden else 4
        target(f"a whole {label} within {most} U", f"{in_u(median)} ({median:.1f} s)", median <= most * U["s"])


def throughput(questions: list[str], class_size: int) -> None:
    ram = machine_ram_bytes()
    with tempfile.TemporaryDirectory() as scratch:
        class_dir = Path(scratch) / "class"
        class_dir.mkdir()
        for index in range(class_size):
            sample = ("reference", "typical_mistakes")[index % 2]
            shutil.copytree(REFERENCE if sample == "reference" else SAMPLES / sample, class_dir / f"{index:03d}_{sample}",
                            ignore=shutil.ignore_patterns("__pycache__"))
        for label, hidden in (("self-check", False), ("hidden", True)):
            rates = {}
            for workers in (1, 2):
                out = Path(scratch) / f"out-{label}-{workers}"
                with PeakMemory() as memory:
                    started = time.perf_counter()
                    grade_class(class_dir=class_dir, out=out, workers=workers, questions=questions, hidden=hidden,
                                seed=HIDDEN_SEED if hidden else None, progress=lambda student: None)
                    rates[workers] = class_size / (time.perf_counter() - started) * 60
                print(f"batch of {class_size} ({label}) with {workers} worker(s): {rates[workers]:.2f} submissions/min; "
                      f"peak resident memory {memory.peak / 2**30:.2f} GiB ({100 * memory.peak / ram:.0f} % of "
                      f"{ram / 2**30:.0f} GiB)")
            print(f"throughput ratio ({label}) 2 workers / 1 worker: {rates[2] / rates[1]:.2f}x; a class of 200 on 2 "
                  f"workers: {200 / rates[2]:.0f} min")
            target(f"2 workers at least 1.9x one ({label})", f"{rates[2] / rates[1]:.2f}x", rates[2] / rates[1] >= 1.9)


def overhead(questions: list[str], repeats: int) -> None:
    def checks_seconds(isolation):
        runs = [grade_once(REFERENCE, questions, isolation=isolation)[1] for _ in range(repeats)]
        return statistics.median(sum(c["duration_s"] for q in r["questions"] for c in q["checks"]) for r in runs)

    boxed_s, raw_s = checks_seconds("auto"), checks_seconds("direct")
    print(f"machinery overhead: checks take {boxed_s:.1f} s sandboxed vs {raw_s:.1f} s run directly in-process "
          f"(ratio {boxed_s / raw_s:.3f}, {100 * (boxed_s / raw_s - 1):+.1f} %)")
    target("the machinery at most 3 % over the compute", f"{100 * (boxed_s / raw_s - 1):+.1f} %", boxed_s <= 1.03 * raw_s)


def hang() -> None:
    if not HANG_SAMPLE.exists():
        print(f"hang: {HANG_SAMPLE.relative_to(PROJECT)} is missing")
        return
    wall, result = grade_once(HANG_SAMPLE, [], select="q4 or q5")
    scores = {q["id"]: f"{q['score']:g}/{q['max_score']:g}" for q in result["questions"]}
    print(f"hang: q5 functions that loop forever, graded on q4 and q5 in {wall:.1f} s; {scores}")


def peer(cell_timeout: int) -> None:
    import nbformat

    from benchmarks.otter_peer import grade_with_otter

    source = SAMPLES / "notebook" / "hw3.ipynb"
    with tempfile.TemporaryDirectory() as scratch:
        for label, keep_experiments in (("as submitted", True), ("without its experiment cells", False)):
            book = nbformat.read(source, as_version=4)
            if not keep_experiments:
                book.cells = [c for c in book.cells if "3600" not in c.source]
            notebook = Path(scratch) / f"hw3-{int(keep_experiments)}.ipynb"
            nbformat.write(book, notebook)
            ours_s, result = grade_once(notebook, ["q4", "q5"])
            otter_s, outcome = grade_with_otter(notebook, timeout_s=cell_timeout)
            print(f"notebook {label}: otter run {otter_s:.1f} s ({outcome}) vs this harness {ours_s:.1f} s "
                  f"(score {result['score']:g}): ratio {otter_s / ours_s:.2f}x")


def samples() -> None:
    from tests.grading import assert_matches_golden, golden_samples, load_golden, sample_path

    different = []
    for sample in golden_samples():
        goldens, options = load_golden(sample)
        if options.get("rubric"):
            continue  # graded under a changed rubric: tests/test_samples.py covers it
        _, result = grade_once(sample_path(sample), sorted(goldens))
        try:
            assert_matches_golden(result, goldens)
        except AssertionError as error:
            different.append(f"{sample}: {str(error)[:200]}")
    print(f"samples: {len(golden_samples()) - len(different)} identical to their goldens"
          + "".join(f"\n  DIFFERENT {line}" for line in different))


def kit() -> None:
    from benchmarks.kit import check_timings

    with tempfile.TemporaryDirectory() as scratch:
        figures = check_timings(Path(scratch))
    seconds, questions = figures["seconds"], figures["questions"]
    print(f"kit ({', '.join(questions)}): first check({questions[0]!r}) {seconds['first'][0]:.1f} s (the grading "
          "process and the worker start)")
    for question in questions:
        runs = seconds.get(question, [])
        print(f"  check({question!r}) after the first: median {statistics.median(runs):.2f} s, max {max(runs):.2f} s "
              f"(runs: {', '.join(f'{s:.2f}' for s in runs)}); target < 3 s")
    self_check = statistics.median(figures["self_check"])
    print(f"  check_all() {seconds['check_all'][0]:.1f} s vs a self-check of the same questions (pytest graders, a "
          f"new process) median {self_check:.1f} s")


def gradescope() -> None:
    from benchmarks.kit import autograder_run

    with tempfile.TemporaryDirectory() as scratch:
        run = autograder_run(REFERENCE, Path(scratch))
    print(f"gradescope: run_autograder on the reference (hidden, every question): {run['wall_s']:.0f} s wall, peak "
          f"memory {run['peak_bytes'] / 2**30:.2f} GiB (the grader, its worker and their children); score "
          f"{run['score']:g}/{run['max_score']:g}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", nargs="+", default=[], help="default: every question")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--class-size", type=int, default=4)
    parser.add_argument("--cell-timeout", type=int, default=300, help="seconds before otter's run is stopped")
    parser.add_argument("--rescore-students", type=int, default=200, help="the class rescored by --only rescore")
    parser.add_argument("--rescore-results", metavar="DIR", help="--only rescore: make the class from these results "
                        "JSON (e.g. hw3grade grade --json) instead of grading the samples")
    parts = ["profile", "whole", "throughput", "overhead", "hang", "peer", "samples", "kit", "gradescope", "rescore"]
    parser.add_argument("--only", nargs="+", choices=parts, default=parts)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, {machine_ram_bytes() / 2**30:.0f} GiB; "
          f"questions: {' '.join(args.questions) or 'all'}")
    steps = {"profile": lambda: profile(args.questions), "whole": lambda: whole_submission(args.questions, args.repeats),
             "throughput": lambda: throughput(args.questions, args.class_size),
             "overhead": lambda: overhead(args.questions, args.repeats), "hang": hang,
             "peer": lambda: peer(args.cell_timeout), "samples": samples, "kit": kit, "gradescope": gradescope,
             "rescore": lambda: bench_rescore.rescore(args.questions, args.rescore_students, max(args.repeats, 3),
                                                      args.rescore_results)}
    U["s"] = tensorflow_import_s()
    print(f"U = one `import tensorflow` in a fresh process, here and now: {U['s']:.2f} s (median of 3)")
    for part in args.only:
        steps[part]()
    if TARGETS:
        print("targets (DESIGN.md, in U measured in this run):", *TARGETS, sep="\n")


if __name__ == "__main__":
    main()
