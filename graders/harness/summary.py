"""The terminal's summary of a grading: one line per question, the total, and what the total means."""

from __future__ import annotations

from pathlib import Path

from graders.core.isolation import PROCESS
from graders.core.results import GradingResult
from graders.core.trusted import CHECKED_BY_TA

PUBLIC_CHECKS = ("public checks only: this is not your grade. The TA's grading also runs hidden checks on a "
                 "secret seed")
PLAIN_PROCESS = ("note: your code ran in a plain child process, not in bubblewrap's sandbox: that is fine for "
                 "your own code on your own machine")

LABEL_WIDTH = 56


def summary_lines(result: GradingResult, *, report: Path, seed_note: str = "") -> list[str]:
    """The lines of pytest's "HW3 score" section.

    The load error comes first and once; an unanswered question is one line that says so; a
    partial run says which questions it graded.
    """
    lines = []
    if result.load.get("error"):
        lines.append(f"NOT GRADED: {result.load['error']}")
    for question in result.questions:
        label = f"{question.id}  {question.title}"
        if question.not_attempted:
            label += f": not attempted ({question.not_attempted})"
        lines.append(_row(label, question.score, question.max_score))
    lines.append(_row("total", result.score, result.max_score) + f"   (isolation: {result.isolation})")
    if result.kit:
        lines += kit_lines(result)
    elif result.isolation.unconfined_root:
        lines.append("WARNING: the submission ran as root without bubblewrap: its code could read, change or delete "
                     "anything on this machine. Install bubblewrap and regrade.")
    if result.partial:
        lines.append(f"partial run: graded {', '.join(result.graded_questions) or 'nothing'} only; "
                     "this total is not the submission's grade")
    if seed_note:
        lines.append(f"seed: {seed_note}")
    lines.append(f"report: {report}")
    return lines


def kit_lines(result: GradingResult) -> list[str]:
    """What a student kit's total means: public checks only, and where the student's code ran, said once."""
    by_ta = sum(1 for question in result.questions for check in question.checks if check.cause == CHECKED_BY_TA)
    lines = [PUBLIC_CHECKS + (f"; {by_ta} check{'s' if by_ta != 1 else ''} of answers that do not depend on the "
                              "seed are checked there only" if by_ta else "")]
    if result.isolation.level == PROCESS:
        lines.append(PLAIN_PROCESS)
    return lines


def _row(label: str, score: float, max_score: float) -> str:
    points = f"{score:g}/{max_score:g}"
    if len(label) > LABEL_WIDTH:
        return f"{label}  {points}"
    return f"{label:<{LABEL_WIDTH}}{points:>8}"
