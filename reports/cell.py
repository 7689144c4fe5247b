"""A grading result as a notebook cell shows it (the kit's `check()`): compact HTML, and the same as text.

Each check: passed or failed, its message, its points; the line that says these are the public checks only;
the notes of the caller (which definitions were graded). Built from the report's view, so the cell shows
no more than the report does: no expected value of an answer that does not depend on the seed.
"""

from __future__ import annotations

from dataclasses import dataclass

from graders.core.results import SKIPPED, GradingResult
from graders.core.trusted import CHECKED_BY_TA
from reports.render import _ENVIRONMENT
from reports.view import BY_TA_LABEL, report_view

PUBLIC_CHECKS = "Public checks only: this is not your grade. The TA's grading also runs hidden checks on a secret seed"


@dataclass(frozen=True)
class Note:
    """A line above the result: "info" or "warning"."""

    level: str
    text: str


def render_cell(result: GradingResult | None, *, notes: list[Note], report: str, error: str = "") -> str:
    """The cell's HTML (every value escaped: a student's text is shown as text)."""
    view = report_view(result) if result is not None else None
    return _ENVIRONMENT.get_template("cell.html.j2").render(r=view, notes=notes, report=report, error=error,
                                                            public=public_line(result))


def text_lines(result: GradingResult | None, *, notes: list[Note], report: str, error: str = "") -> list[str]:
    """The same, as lines of text (a terminal, or `repr`)."""
    lines = [f"{note.level.upper()}: {note.text}" if note.level == "warning" else note.text for note in notes]
    if error:
        lines.append(f"ERROR: {error}")
    if result is None:
        return lines
    lines.append(f"HW3 public checks: {result.score:g} / {result.max_score:g}")
    for question in result.questions:
        lines.append(f"{question.id} {question.title}: {question.score:g} / {question.max_score:g}")
        for check in question.checks:
            label = BY_TA_LABEL if check.cause == CHECKED_BY_TA else check.category
            message = check.message.splitlines()[0] if check.message else ""
            points = "-" if check.status == SKIPPED else f"{check.score:g}/{check.max_score:g}"  # not in the total
            lines.append(f"  {label:<13} {points:>5}  {check.id}  {message}"[:200])
    return [*lines, public_line(result) + ".", f"report: {report}"]


def public_line(result: GradingResult | None) -> str:
    """What the total means: public checks only, and the answers checked in the TA's grading."""
    if result is None:
        return PUBLIC_CHECKS
    by_ta = sum(1 for question in result.questions for check in question.checks if check.cause == CHECKED_BY_TA)
    return PUBLIC_CHECKS + (f", and checks the {by_ta} answer{'s' if by_ta != 1 else ''} that do not depend on "
                            "the seed (marked TA's grading here)" if by_ta else "")
