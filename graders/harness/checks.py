"""One grader test = one rubric check: its context, and how a pytest outcome becomes a CheckResult.

The taxonomy: a `SubmissionError` (a wrong answer, a crash, a timeout of the student's code)
fails the check, score 0, with its message; anything else a grader raises, an `AssertionError`
included, is an *error*: a bug of the grader, reported as such and never as the student's fault.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from graders.core.errors import CheckFailed, HarnessError, SubmissionError
from graders.core.results import ERROR, FAILED, NOT_ATTEMPTED, NOT_GRADED, PASSED, SKIPPED, CheckResult, default_title

CHECK_KEY = pytest.StashKey["CheckContext"]()

# What a check's outcome is called in the terminal, by its category: pytest's (category, letter, word).
TEST_STATUS = {
    FAILED: ("failed", "F", "FAILED"),
    ERROR: ("error", "E", "GRADER ERROR"),
    NOT_ATTEMPTED: (NOT_ATTEMPTED, "n", "NOT ATTEMPTED"),
    NOT_GRADED: (NOT_GRADED, "x", "NOT GRADED"),
}
GRADER_BUG = "grader error ({error}); this is a bug in the grader, not in your submission: please report it"


@dataclass
class CheckContext:
    """What a grader test knows about its own check; `details` reaches the report."""

    id: str
    points: float
    hidden: bool
    title: str = ""
    details: dict = field(default_factory=dict)
    duration_s: float = 0.0  # setup and call of the test, worker start included for the first check


def context_of(item, rubric) -> CheckContext:
    """The check an item is, from its marker, its parameters and the rubric.

    Raises:
        HarnessError: a check id that needs a missing parameter, or that the rubric gives no points.
    """
    marker = item.get_closest_marker("check")
    params = getattr(getattr(item, "callspec", None), "params", {})
    try:
        check_id = marker.args[0].format(**params)
        title = marker.kwargs["title"].format(**params) if "title" in marker.kwargs else default_title(check_id)
    except (KeyError, IndexError) as exc:
        raise HarnessError(f"{item.nodeid}: check id or title {marker.args[0]!r} needs parameter {exc}") from None
    rule = rubric.rule(check_id)
    return CheckContext(id=check_id, points=rule.points, hidden=rule.hidden, title=title)


def result_of(context: CheckContext, report, call) -> CheckResult | None:
    """The check's result from a pytest report (None for a phase that decides nothing)."""
    def make(status: str, message: str, cause: str = "", category: str = "") -> CheckResult:
        score = context.points if status == PASSED else 0.0
        return CheckResult(context.id, status, score, context.points, message, context.hidden, context.details,
                           round(context.duration_s, 3), title=context.title, cause=cause,
                           category=category or status)

    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        return make(SKIPPED, reason.removeprefix("Skipped: "))
    if report.when == "call" and report.passed:
        return make(PASSED, "")
    if not report.failed or call.excinfo is None:
        return None
    error = call.excinfo.value
    if isinstance(error, SubmissionError):
        if isinstance(error, CheckFailed) and error.diagnosis:
            context.details.setdefault("diagnosis", error.diagnosis)
        return make(FAILED, str(error), type(error).__name__, error.category)
    return make(ERROR, GRADER_BUG.format(error=f"{type(error).__name__}: {error}"), type(error).__name__)

