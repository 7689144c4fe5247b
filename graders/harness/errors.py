"""The two error families of the grader.

A `SubmissionError` is the student's problem: the check that hit it scores 0 with the
message, and grading goes on. A `HarnessError` is our bug: it fails loudly.
"""


class SubmissionError(Exception):
    """Something about the submission makes a check fail; the message is for the student."""


class SubmissionLoadError(SubmissionError):
    """The submission (or the file a name lives in) could not be loaded."""


class MissingName(SubmissionError):
    """The submission does not define a function or global that the contract asks for."""


class StudentException(SubmissionError):
    """Student code raised an exception while it ran in the sandbox."""


class CallTimeout(SubmissionError):
    """Student code ran past its time limit and the worker was killed."""


class WorkerCrashed(SubmissionError):
    """The sandbox worker exited, was killed by a signal, or passed a resource limit."""


class WrongType(SubmissionError):
    """Student code returned a value of the wrong type or shape."""


class HarnessError(Exception):
    """A bug or misconfiguration in the grader itself: never the student's fault."""
