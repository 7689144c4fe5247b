"""One grader test = one rubric check: its context, and how a pytest outcome becomes a CheckResult.

The taxonomy: a `SubmissionError` (a wrong answer, a crash, a timeout of the student's code)
fails the check, score 0, with its message; anything else a grader raises, an `AssertionError`
included, is an *error*: a bug of the grader, reported as such and never as the student's fault.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field

import pytest

from graders.core.errors import HarnessError, SubmissionError
from graders.core.judging import JUDGE, error_observation, normalise
from graders.core.results import ERROR, FAILED, NOT_ATTEMPTED, NOT_GRADED, PASSED, SKIPPED, CheckResult, default_title
from graders.core.trusted import CHECKED_BY_TA, CheckedByTA
from graders.harness.judgement import with_verdict

CHECK_KEY = pytest.StashKey["CheckContext"]()

# What a check's outcome is called in the terminal, by its category: pytest's (category, letter, word).
TEST_STATUS = {
    FAILED: ("failed", "F", "FAILED"),
    ERROR: ("error", "E", "GRADER ERROR"),
    NOT_ATTEMPTED: (NOT_ATTEMPTED, "n", "NOT ATTEMPTED"),
    NOT_GRADED: (NOT_GRADED, "x", "NOT GRADED"),
}
# A check of a seed-independent answer in the student kit, which holds no expected value for it.
TA_ONLY = "this answer does not depend on the seed, so the kit holds no expected value for it: its correctness is " \
          "checked in the TA's grading."
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
    observations: dict = field(default_factory=dict)

    def observe(self, judge: str, **values) -> None:
        """Record what this check measured, and the judge (of its question) that decides it from that.

        The values must be plain data (numbers, strings, lists, dicts, NumPy arrays): they are stored in
        the results JSON, and the judge sees them as stored, so a rescore decides as the grading did.
        """
        self.observations.update(values)
        self.observations[JUDGE] = judge


def chosen(check_id: str, patterns: tuple[str, ...]) -> bool:
    """Whether `check_id` is one of `patterns` (check ids or globs: "q5.conv.*")."""
    return any(fnmatch.fnmatchcase(check_id, pattern) for pattern in patterns)


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


def result_of(context: CheckContext, report, call, judge) -> CheckResult | None:
    """The check's result from a pytest report (None for a phase that decides nothing).

    Args:
        judge: `judge(check_id, observations)` -> Verdict (harness.judgement.judge_check under the run's rubric).
    """
    def make(status: str, message: str, cause: str = "", category: str = "") -> CheckResult:
        score = context.points if status == PASSED else 0.0
        return CheckResult(context.id, status, score, context.points, message, context.hidden, context.details,
                           round(context.duration_s, 3), title=context.title, cause=cause,
                           category=category or status)

    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        return make(SKIPPED, reason.removeprefix("Skipped: "))
    error = call.excinfo.value if report.failed and call.excinfo is not None else None
    if isinstance(error, CheckedByTA):
        return make(SKIPPED, TA_ONLY, cause=CHECKED_BY_TA)
    if isinstance(error, SubmissionError):
        context.observations = error_observation(error)
    elif error is not None:
        return make(ERROR, GRADER_BUG.format(error=f"{type(error).__name__}: {error}"), type(error).__name__)
    elif not (report.when == "call" and report.passed):
        return None
    elif not context.observations:
        return make(PASSED, "")
    try:
        observations = normalise(context.observations)
        verdict = judge(context.id, observations)
    except Exception as exc:  # noqa: BLE001 - a judge's bug is the grader's error, reported as such
        return make(ERROR, GRADER_BUG.format(error=f"{type(exc).__name__}: {exc}"), type(exc).__name__)
    result = with_verdict(make(PASSED, ""), verdict, context.points)
    result.observations = observations
    return result
