"""`hw3grade`: a thin command line over keyword-only functions that run the pytest graders."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from graders.harness import DEFAULT_SEED
from graders.harness.results import GradingResult, from_json

GRADERS_DIR = Path(__file__).resolve().parent.parent


def grade(
    *,
    submission: str | Path,
    hidden: bool = False,
    seed: int = DEFAULT_SEED,
    json_path: str | Path | None = None,
    report_path: str | Path | None = None,
    gradescope_path: str | Path | None = None,
    rubric: str | Path | None = None,
    mnist: str | Path | None = None,
    isolation: str = "auto",
    questions: list[str] | None = None,
    select: str | None = None,
    quiet: bool = True,
) -> GradingResult:
    """Grade one submission by running the pytest graders on it, in this process.

    Args:
        submission: a .py file, a folder, a .ipynb notebook or a .zip.
        hidden: also run the hidden checks.
        seed: the seed of every generated input.
        json_path, report_path, gradescope_path: where to write each output (JSON always
            goes at least to a temporary file, from which the result is read back).
        rubric, mnist, isolation: as the pytest options of the same names.
        questions: grade only these questions (["q4", "q5"]); default all of them.
        select: a pytest `-k` expression to grade only some checks.
        quiet: keep pytest's output short.

    Returns:
        The GradingResult (also written to `json_path` when given).

    Raises:
        RuntimeError: when pytest stopped before writing any result (a usage or grader error).
    """
    import pytest

    with tempfile.TemporaryDirectory(prefix="hw3grade-") as scratch:
        target = Path(json_path) if json_path else Path(scratch) / "results.json"
        args = [*grader_modules(questions), "--submission", str(submission), "--seed", str(seed), "--json", str(target),
                "--isolation", isolation, "--rootdir", str(GRADERS_DIR.parent)]
        args += ["--hidden"] if hidden else []
        args += ["-q", "--no-header", "-p", "no:cacheprovider"] if quiet else []
        args += ["-k", select] if select else []
        for flag, value in (("--report", report_path), ("--gradescope", gradescope_path),
                            ("--rubric", rubric), ("--mnist", mnist)):
            if value is not None:
                args += [flag, str(value)]
        code = pytest.main(args)
        if not target.exists():
            raise RuntimeError(f"grading stopped before writing results (pytest exit code {int(code)})")
        return from_json(json.loads(target.read_text(encoding="utf-8")))


def grader_modules(questions: list[str] | None) -> list[str]:
    """The grader files of `questions` (all of `graders/` when None).

    Raises:
        ValueError: for a question that has no grader module.
    """
    if not questions:
        return [str(GRADERS_DIR)]
    modules = []
    for question in questions:
        found = sorted(GRADERS_DIR.glob(f"test_{question}_*.py"))
        if not found:
            raise ValueError(f"no grader for question {question!r} in {GRADERS_DIR}")
        modules += [str(path) for path in found]
    return modules


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `hw3grade` console script."""
    parser = argparse.ArgumentParser(prog="hw3grade", description="Grade HW3 submissions.")
    commands = parser.add_subparsers(dest="command", required=True)
    one = commands.add_parser("grade", help="grade one submission")
    one.add_argument("submission")
    one.add_argument("--hidden", action="store_true")
    one.add_argument("--seed", type=int, default=DEFAULT_SEED)
    one.add_argument("--json", dest="json_path")
    one.add_argument("--report", dest="report_path")
    one.add_argument("--gradescope", dest="gradescope_path")
    one.add_argument("--rubric")
    one.add_argument("--mnist")
    one.add_argument("--isolation", default="auto", choices=["auto", "bubblewrap", "process"])
    one.add_argument("--questions", nargs="+", help="grade only these questions, e.g. q4 q5")
    starter = commands.add_parser("template", help="write the starter notebook students fill in")
    starter.add_argument("out", metavar="OUT.ipynb")
    many = commands.add_parser("batch", help="grade a whole class folder")
    many.add_argument("class_dir", metavar="CLASS_DIR")
    many.add_argument("--out", required=True, help="output folder (reports, gradebook.csv, index.html)")
    many.add_argument("--workers", type=int, default=2, help="parallel gradings on this machine (default 2)")
    many.add_argument("--hidden", action="store_true")
    many.add_argument("--seed", type=int, default=DEFAULT_SEED)
    many.add_argument("--scheduler", help="a Dask scheduler address, e.g. tcp://host:8786")
    many.add_argument("--timeout", dest="timeout_s", type=float, default=600.0, help="seconds per submission")
    many.add_argument("--rubric")
    many.add_argument("--mnist")
    many.add_argument("--questions", nargs="+", help="grade only these questions, e.g. q4 q5")
    options = vars(parser.parse_args(argv))
    command = options.pop("command")
    if command == "template":
        from graders.harness.template import build_template

        print(f"wrote {build_template(path=options['out'])}")
        return 0
    if command == "batch":
        from graders.harness.batch import grade_class

        rows = grade_class(**options)
        print(f"graded {len(rows)} submissions into {options['out']} (gradebook.csv, index.html)")
        return 0
    result = grade(**options, quiet=False)
    print(f"{result.submission}: {result.score:g}/{result.max_score:g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
