"""Speed of `hw3grade similarity` on a generated class (run by hand; not a test).

    .venv/bin/python benchmarks/bench_similarity.py                 # 200 students x 6 questions
    .venv/bin/python benchmarks/bench_similarity.py --students 400 --repeats 3

Each generated student answers all six questions. Each answer is one of the independent solutions
of tests/similarity (the reference, the samples, the corpus) with its names renamed, its comments
replaced, its functions reordered and, at random, a quarter of its functions' statements dropped
or repeated: a class of related but mostly distinct answers, with many pairs above the threshold
(the expensive case for the pair output). Prints the seconds of the whole comparison (median of
--repeats, wall and CPU), then of its parts, the pairs flagged per question and the outputs' sizes.
Target: under 30 s for 200 students x 6 questions on the 2-core machine.
"""

from __future__ import annotations

import argparse
import ast
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from graders.similarity import find_similar  # noqa: E402
from reports.similarity import write_similarity  # noqa: E402
from tests.similarity import disguise  # noqa: E402
from tests.similarity.synthetic import REFERENCE_OF, originals  # noqa: E402

TARGET_S = 30.0


def perturb(source: str, rng: random.Random) -> str:
    """Drop or repeat about a quarter of each function's statements (never its last one)."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and len(node.body) > 2:
            body = []
            for statement in node.body[:-1]:
                roll = rng.random()
                if roll >= 0.15:
                    body.append(statement)
                if roll > 0.9:
                    body.append(statement)
            node.body = body + node.body[-1:]
    return ast.unparse(tree)


def generate_class(folder: Path, students: int, seed: int) -> None:
    """Write `students` submissions, each answering every question, into `folder`."""
    rng = random.Random(seed)
    pools = {question: list(originals(question).values()) for question in REFERENCE_OF}
    folder.mkdir(parents=True)
    for number in range(students):
        parts = []
        for question, pool in pools.items():
            source = disguise.recomment(rng.choice(pool), seed=rng.randrange(1000))
            source = perturb(disguise.reorder(source), rng)
            parts.append(disguise.rename(source, seed=rng.randrange(10**6), prefix=f"{question}s{number}_"))
        (folder / f"{number:04d}_student_hw3.py").write_text("\n\n".join(parts), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-similarity-") as scratch:
        folder = Path(scratch) / "class"
        started = time.perf_counter()
        generate_class(folder, args.students, args.seed)
        size = sum(p.stat().st_size for p in folder.iterdir())
        print(f"generated {args.students} students x {len(REFERENCE_OF)} questions ({size / 1e6:.1f} MB of code) "
              f"in {time.perf_counter() - started:.1f} s")
        walls, cpus, report = [], [], None
        for _ in range(args.repeats):
            wall, cpu = time.perf_counter(), time.process_time()
            report = find_similar(class_dir=folder)
            written = write_similarity(report, Path(scratch) / "out")
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
        compared = sum(len(q.compared) for q in report.questions)
        print(f"find_similar + write_similarity: median {statistics.median(walls):.1f} s wall, "
              f"{statistics.median(cpus):.1f} s CPU (runs: {', '.join(f'{w:.1f}' for w in walls)}); "
              f"target < {TARGET_S:g} s: {'met' if statistics.median(walls) < TARGET_S else 'MISSED'}")
        print(f"answers compared: {compared}; pairs flagged: "
              + ", ".join(f"{q.question} {len(q.pairs)}" for q in report.questions))
        print("outputs: " + ", ".join(f"{p.name} {p.stat().st_size / 1e6:.1f} MB" for p in written))
        parts(folder)


def parts(folder: Path) -> None:
    """Where the seconds go: reading and fingerprinting, then comparing, for one run."""
    from graders.core.rubric import Rubric
    from graders.similarity.boilerplate import boilerplate_kgrams
    from graders.similarity.compare import common_cutoff, compare
    from graders.similarity.extract import question_code, read_submission
    from graders.similarity.fingerprint import fingerprint
    from graders.similarity.normalise import token_streams
    from graders.similarity.report import SimilaritySettings
    from graders.submission.classfolder import discover

    settings = Rubric.load().section("similarity", SimilaritySettings)
    boilerplate = boilerplate_kgrams(k=settings.k, max_tokens=settings.max_tokens)
    started = time.process_time()
    submissions = [read_submission(e.path) for e in discover(folder)]
    read = time.process_time()
    prints = {q: {} for q in REFERENCE_OF}
    for number, submission in enumerate(submissions):
        for question in REFERENCE_OF:
            code = question_code(submission, question)
            if code is not None:
                streams = token_streams(code, max_tokens=settings.max_tokens)
                found = fingerprint(streams, k=settings.k, window=settings.window).without(boilerplate)
                if len(found) >= settings.min_fingerprints:
                    prints[question][number] = found
    fingerprinted = time.process_time()
    for question, found in prints.items():
        cutoff = common_cutoff(len(submissions), fraction=settings.common_fraction,
                               minimum=settings.common_min_students)
        compare(found, cutoff=cutoff, min_fingerprints=settings.min_fingerprints)
    compared = time.process_time()
    print(f"parts (CPU seconds): read and parse {read - started:.1f} s, normalise and fingerprint {fingerprinted - read:.1f} s, "
          f"compare all pairs {compared - fingerprinted:.1f} s")


if __name__ == "__main__":
    main()
