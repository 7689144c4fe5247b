"""What happened in the sandbox, said to the student: a `SandboxFailure` becomes a `SubmissionError`.

The sandbox reports facts (a timeout, an exit code or signal, the memory cap, a missing name, a
traceback in the worker's file names); here they get the student's words, with places in the
student's own cells and lines (graders/submission/explain.py).
"""

from __future__ import annotations

import signal

from graders.core.errors import (
    CallTimeout,
    MissingName,
    NotAttempted,
    StudentException,
    SubmissionError,
    SubmissionLoadError,
    UnusableName,
    WorkerCrashed,
    WrongType,
)
from graders.sandbox.failures import (
    BudgetSpent,
    Crashed,
    LoadFailed,
    Missing,
    NotPlainData,
    PlantedFile,
    Raised,
    Request,
    SandboxFailure,
    TimedOut,
    UnreadableReply,
    WrongReply,
)
from graders.submission.explain import locate, missing_name_message, relocate_traceback, skipped_hint

WORKER_INTERNAL_ERROR = 70  # graders/inside/worker.py INTERNAL_ERROR: the worker itself failed
_SIGNALS = {
    signal.SIGXCPU: "it used up its CPU-time limit",
    signal.SIGXFSZ: "it wrote a file larger than the sandbox allows",
    signal.SIGSEGV: "it crashed with a segmentation fault",
    signal.SIGKILL: "it was killed (out of memory, or it killed itself)",
}


def student_error(failure: SandboxFailure, prepared, *, load_problems: list[dict],
                  load_timeout_s: float) -> SubmissionError:
    """The student's error for `failure`, of the class that decides how the check counts.

    Args:
        prepared: the submission (its units map the worker's lines back to the student's cells).
        load_problems: what failed while the worker ran the top level, located in the student's files.
        load_timeout_s: the budget of loading the submission, for a load that ran out of it.
    """
    what = describe_request(failure.request)
    if isinstance(failure, LoadFailed):
        return SubmissionLoadError(_load_failure(failure, prepared, load_problems, load_timeout_s))
    if isinstance(failure, TimedOut):
        return CallTimeout(f"{what} ran longer than {failure.budget_s:g} s and was stopped")
    if isinstance(failure, BudgetSpent):
        return CallTimeout(f"{what} was not run: this function's calls took its whole time budget of "
                           f"{failure.total_s:g} s in all ({failure.calls} calls), so its remaining cases fail "
                           "without being run. Is it slow on every call (a model built or a sleep per call)?")
    if isinstance(failure, Crashed):
        output = f"\nLast output:\n{failure.output_tail}" if failure.output_tail else ""
        reason = (f"it ran out of memory: the sandbox allows {_gib(failure.memory_cap_bytes)} per worker, and the "
                  "kernel stopped it there" if failure.out_of_memory else exit_reason(failure.exit_code))
        return WorkerCrashed(f"{what}: {reason}{output}")
    if isinstance(failure, UnreadableReply):
        return WrongType(f"{what}: the result could not be read back ({failure.reason}); the worker was restarted")
    if isinstance(failure, WrongReply):
        return WorkerCrashed(f"{what}: the worker's reply did not answer this request (does the code write to the "
                             "grader's pipe?); the worker was restarted")
    if isinstance(failure, PlantedFile):
        return WorkerCrashed(f"the worker put a file where the grader shares {failure.name} with it; it was restarted")
    if isinstance(failure, Missing):
        is_global = failure.request.op == "get"
        unusable = skipped_hint(prepared, failure.name, is_global=is_global, load_problems=load_problems)
        message = missing_name_message(prepared, failure.name, detail=failure.detail, is_global=is_global,
                                       load_problems=load_problems)
        return (UnusableName if unusable else MissingName)(message)
    if isinstance(failure, NotPlainData):
        return WrongType(f"{what}: {failure.message}")
    if isinstance(failure, Raised):
        return _raised(failure, what, prepared, load_problems)
    raise TypeError(f"no words for {failure!r}")


def describe_request(request: Request) -> str:
    """How a message names what the grader asked: "`grad_cam(...)`", "reading `LAYER_TABLE`", ..."""
    if request.op == "probe":
        return f"the grader's {request.name} check"
    if request.op == "get":
        return f"reading `{request.name}`"
    if request.op == "load":
        return "loading the submission"
    return f"`{request.name}(...)`"


def exit_reason(code: int | None) -> str:
    """Why the worker ended, from its exit code (negative: the signal that killed it)."""
    if code is None:
        return "the worker stopped"
    if code == WORKER_INTERNAL_ERROR:
        return ("the worker failed while handling your code (does it patch Python's builtins, numpy or "
                "the os module at the top level?)")
    if code >= 0:
        return f"the process exited with status {code} (does the code call sys.exit(), os._exit() or exit()?)"
    return _SIGNALS.get(-code, f"it was killed by signal {-code}")


def _raised(failure: Raised, what: str, prepared, load_problems: list[dict]) -> SubmissionError:
    if failure.error_type == "NotImplementedError":  # the starter's stub, never filled in
        return NotAttempted(f"{what} raises NotImplementedError")
    message = f"{what} raised {failure.message}"
    if failure.error_type == "MemoryError":
        message += f" (the sandbox allows {_gib(failure.memory_cap_bytes)} of memory per worker)"
    hint = skipped_hint(prepared, failure.missing_name, load_problems=load_problems)
    trace = relocate_traceback(prepared, failure.traceback)[-2000:]
    return StudentException(message + (f"\n{hint}" if hint else "") + (f"\n{trace}" if trace else ""))


def _load_failure(failure: LoadFailed, prepared, load_problems: list[dict], load_timeout_s: float) -> str:
    if isinstance(failure.cause, TimedOut):
        running = ""
        if failure.loading_at is not None:
            running = f", while running {locate(prepared, *failure.loading_at, quote=True)}"
        return (f"loading the submission took longer than {load_timeout_s:g} s{running}: does it train "
                "or search at the top level? Move that into a function (in a .py file, or under "
                "`if __name__ == \"__main__\":`)")
    cause = student_error(failure.cause, prepared, load_problems=load_problems, load_timeout_s=load_timeout_s)
    return f"the submission could not be loaded: {cause}"


def _gib(size: int) -> str:
    return f"{size / 2**30:.1f} GiB"
