"""The terminal's summary of a grading: one line per question, the total, and what the total means."""

from __future__ import annotations

from pathlib import Path

from graders.core.results import GradingResult

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
    if result.isolation.unconfined_root:
        lines.append("WARNING: the submission ran as root without bubblewrap: its code could read, change or delete "
                     "anything on this machine. Install bubblewrap and regrade.")
    if result.partial:
        lines.append(f"partial run: graded {', '.join(result.graded_questions) or 'nothing'} only; "
                     "this total is not the submission's grade")
    if seed_note:
        lines.append(f"seed: {seed_note}")
    lines.append(f"report: {report}")
    return lines


def _row(label: str, score: float, max_score: float) -> str:
    points = f"{score:g}/{max_score:g}"
    if len(label) > LABEL_WIDTH:
        return f"{label}  {points}"
    return f"{label:<{LABEL_WIDTH}}{points:>8}"
