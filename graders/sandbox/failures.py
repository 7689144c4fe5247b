"""What went wrong with a request to the worker, as facts: the sandbox raises these, and the grading side
(graders/harness/failures.py) says them to the student. Nothing here is worded for a student.
"""

from __future__ import annotations

from dataclasses import dataclass

MESSAGE_CHARS = 2000  # the most of any text from the worker (a message, a traceback) kept: head and tail


def cut(text: str, limit: int = MESSAGE_CHARS) -> str:
    """`text` within `limit` characters: its start and its end, and how much was left out between them."""
    if len(text) <= limit:
        return text
    head, tail = limit * 3 // 4, limit // 4
    return f"{text[:head]}\n[... {len(text) - head - tail:,} characters cut ...]\n{text[len(text) - tail:]}"


@dataclass(frozen=True)
class Request:
    """What the grader asked the worker: op "call", "get", "probe" or "load", a name, a probe's module."""

    op: str
    name: str = ""
    module: str | None = None

    @classmethod
    def of(cls, request: dict) -> "Request":
        return cls(str(request.get("op", "load")), str(request.get("name", "")), request.get("module"))


class SandboxFailure(Exception):
    """A request to the worker failed; the subclass and its fields say how."""

    def __init__(self, request: Request, **facts) -> None:
        super().__init__(request, *facts.values())
        self.request = request
        self.__dict__.update(facts)

    def __str__(self) -> str:
        facts = ", ".join(f"{key}={value!r}" for key, value in vars(self).items() if key != "request")
        return f"{type(self).__name__}({self.request.op} {self.request.name}; {facts})"


class TimedOut(SandboxFailure):
    """The request ran past `budget_s` and the worker was killed (or it hung before: not run again)."""

    budget_s: float


class BudgetSpent(SandboxFailure):
    """The function's calls used up `total_s`, its time in all (over `calls` calls): this one was stopped at
    the end of it, or not made at all."""

    total_s: float
    calls: int


class Crashed(SandboxFailure):
    """The worker died: `exit_code` (negative: killed by that signal; None: unknown), `out_of_memory` (the
    cgroup's memory cap stopped it), `memory_cap_bytes`, `output_tail` (what it printed last)."""

    exit_code: int | None
    out_of_memory: bool
    memory_cap_bytes: int
    output_tail: str


class UnreadableReply(SandboxFailure):
    """The reply frame was over a limit or malformed (`reason`); the worker was restarted."""

    reason: str


class WrongReply(SandboxFailure):
    """A well-formed reply that does not answer the request (another request's id); the worker was restarted."""


class PlantedFile(SandboxFailure):
    """A file the grader shares with the worker (`name`) was already there: the worker put it; it was restarted."""

    name: str


class Missing(SandboxFailure):
    """The submission has no usable `name`; `detail` is the worker's own explanation, if any."""

    name: str
    detail: str


class NotPlainData(SandboxFailure):
    """The result is not plain data (`message` says what it is)."""

    message: str


class Raised(SandboxFailure):
    """Student code raised `error_type` with `message`; `traceback` in the worker's file names; `missing_name`
    the undefined global it used, if any; `memory_cap_bytes` the worker's cap."""

    error_type: str
    message: str
    traceback: str
    missing_name: str | None
    memory_cap_bytes: int


class LoadFailed(SandboxFailure):
    """The submission's top level could not be run: `cause` (a TimedOut while at `loading_at`, the worker's
    (file name, line), or another failure); every later request raises it again."""

    cause: SandboxFailure
    loading_at: tuple[str, int] | None


def from_reply(request: dict, reply: dict, *, memory_cap_bytes: int) -> SandboxFailure:
    """The failure a worker's error reply says; every text of it is the student's, so each is cut first."""
    asked = Request.of(request)
    kind = reply.get("kind")
    if kind == "missing":
        return Missing(asked, name=cut(str(reply.get("name") or request.get("name")), 200),
                       detail=cut(str(reply.get("message") or "")))
    if kind == "type":
        return NotPlainData(asked, message=cut(str(reply.get("message"))))
    missing = reply.get("missing_name")
    return Raised(asked, error_type=cut(str(reply.get("error_type") or ""), 200), message=cut(str(reply.get("message"))),
                  traceback=cut(str(reply.get("traceback") or "")),
                  missing_name=cut(missing, 200) if isinstance(missing, str) else None,
                  memory_cap_bytes=memory_cap_bytes)
