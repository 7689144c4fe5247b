"""The two error families of the grader, and `require`, the one way a check fails.

A `SubmissionError` is the student's problem: the check that hit it scores 0 with the
message, and grading goes on. A `HarnessError` is our bug: it fails loudly. Anything else a
grader raises (an `AssertionError` of a buggy `assert` included) is also reported as a grader
error, never as the student's failure.
"""

from __future__ import annotations

from collections.abc import Callable

from graders.core.results import FAILED, NOT_ATTEMPTED, NOT_GRADED


class SubmissionError(Exception):
    """Something about the submission makes a check fail; the message is for the student.

    `category` is how the failed check counts (README): failed, not attempted (no answer yet), or
    not graded (the submission did not load); the check's result stores it when it is made.
    """

    category = FAILED


class SubmissionLoadError(SubmissionError):
    """The submission (or the file a name lives in) could not be loaded."""


class NotLoaded(SubmissionLoadError):
    """A check that did not run because the whole submission could not be loaded (said once, at the top)."""

    category = NOT_GRADED


class MissingName(SubmissionError):
    """The submission does not define a function or global that the contract asks for."""

    category = NOT_ATTEMPTED


class UnusableName(MissingName):
    """The submission sets the name, but only in a way the grader cannot use: a statement the notebook filter
    skipped, or an import of a library the grader lacks. The question was attempted: it fails, it is not
    "not attempted"."""

    category = FAILED


class StudentException(SubmissionError):
    """Student code raised an exception while it ran in the sandbox."""


class NotAttempted(StudentException):
    """Student code raised NotImplementedError: the starter's stub was never filled in."""

    category = NOT_ATTEMPTED


class CallTimeout(SubmissionError):
    """Student code ran past its time limit and the worker was killed."""


class WorkerCrashed(SubmissionError):
    """The sandbox worker exited, was killed by a signal, or passed a resource limit."""


class WrongType(SubmissionError):
    """Student code returned a value of the wrong type or shape."""


class Unanswered(WrongType):
    """A constant still holds the starter's placeholder (None, an empty table): the question was not answered."""

    category = NOT_ATTEMPTED


class CheckFailed(SubmissionError):
    """The submission's answer is wrong; `diagnosis` names the known mistake it matches, if any."""

    def __init__(self, message: str, *, diagnosis: str | None = None) -> None:
        super().__init__(message)
        self.diagnosis = diagnosis


class HarnessError(Exception):
    """A bug or misconfiguration in the grader itself: never the student's fault."""


def require(passed, message: str | Callable[[], str], *, diagnosis: str | None = None) -> None:
    """Fail the check unless `passed`: the one way a grader says that an answer is wrong.

    Args:
        passed: the condition the answer must meet.
        message: the student's message, or a callable that builds it (only when the check fails).
        diagnosis: the known mistake the answer matches; the report shows it with the check.

    Raises:
        CheckFailed: when `passed` is false.
    """
    if not passed:
        raise CheckFailed(message() if callable(message) else message, diagnosis=diagnosis)
