"""The student's sandbox as graders use it: configured from the rubric, speaking to the student.

The sandbox raises what happened (graders/sandbox/failures.py); `StudentSandbox` turns it into the
student's `SubmissionError` (harness/failures.py), refuses a name the submission defines twice, and
tells its grading session when the submission's top level cannot be run.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass

from graders.core.contract import ANSWERS
from graders.core.errors import SubmissionError, SubmissionLoadError
from graders.core.options import GradingOptions
from graders.core.paths import PROJECT_ROOT
from graders.core.seeds import worker_seed
from graders.harness.failures import student_error
from graders.inside.wire import FrameLimits
from graders.sandbox import cgroup
from graders.sandbox.failures import LoadFailed, SandboxFailure
from graders.sandbox.isolation import Limits
from graders.sandbox.sandbox import REPLY_LIMITS, Sandbox, SandboxConfig
from graders.sandbox.zygotes import open_pool
from graders.submission.explain import explain_causes, locate_problems

MAX_ANSWER_CHARS = 20_000
# The worker never needs these; under bubblewrap they are replaced by empty folders.
HIDDEN_FROM_WORKER = ("reference", "graders", "tests", "submissions", "reports", "benchmarks", ".git")


@dataclass(frozen=True)
class SandboxSettings:
    """rubric.toml [sandbox]: timeouts and limits of one submission's worker."""

    call_timeout_s: float  # one plain call into student code, or a read of a global
    probe_timeout_s: float  # a probe whose grader sets no timeout of its own
    load_timeout_s: float  # importing the submission
    function_budget_s: float  # one contract function's calls (or a global's reads) in all, over the grading
    cpu_seconds: int  # CPU time of one worker over its whole life
    cpu_share: float  # share of the machine's cores that all parallel workers together may use (cgroup cpu limit)
    memory_gib: float  # per worker, the upper bound of its memory cap (cgroup; address-space rlimit)
    memory_share: float  # share of the machine's memory that all parallel workers together may use
    file_mib: float  # largest file the student's code may write
    open_files: int
    threads: int  # per worker at most: TensorFlow intra-op and BLAS threads (fewer: cores / parallel gradings)
    processes: int  # processes and threads of one worker (a cgroup cap)
    scratch_mib: float  # each writable folder of the worker under bubblewrap
    reply_mib: float  # largest reply the grading process reads back from the worker
    worker_uid: int  # the unprivileged user the worker runs as under bubblewrap when the grader is root
    worker_slots: bool  # a batch forks each worker from its slot's zygote (TensorFlow imported once per slot)


class StudentSandbox(Sandbox):
    """A Sandbox whose failures are the student's errors, with messages written for the student."""

    session = None  # the GradingSession, set by open_sandbox
    _answers: dict | None = None  # ANSWERS, once read

    @property
    def load_problems(self) -> list[dict]:
        """What failed while the worker ran the submission's top level, placed in the student's cells and lines."""
        return locate_problems(self.prepared, self.worker_problems)

    def call(self, name: str, *args, timeout: float | None = None, **kwargs):
        with self._in_words(name), self._timed(f"call {name}"):
            return super().call(name, *args, timeout=timeout, **kwargs)

    def get(self, name: str, *, timeout: float | None = None):
        with self._in_words(name), self._timed(f"get {name}"):
            return super().get(name, timeout=timeout)

    def probe(self, module: str, name: str, *, needs: tuple[str, ...] = (), timeout: float | None = None, **kwargs):
        """A probe's result, with the student's errors it returns as text said as a plain call's are."""
        with self._in_words(*needs), self._timed(f"probe {module}.{name}"):
            result = super().probe(module, name, needs=needs, timeout=timeout, **kwargs)
        return explain_causes(self.prepared, result, load_problems=self.load_problems)

    def share_file(self, source) -> str:
        self._answers_before_sharing()
        with self._in_words():
            return super().share_file(source)

    @contextlib.contextmanager
    def shared(self, source):
        """`Sandbox.shared`, a failure to hand the file over said to the student like any other."""
        self._answers_before_sharing()
        block = super().shared(source)
        with self._in_words():
            inside = block.__enter__()
        try:
            yield inside
        finally:
            block.__exit__(None, None, None)

    def _start(self) -> None:
        with self._timed("worker start (its imports and the submission's top level)"):
            super()._start()

    def _timed(self, what: str):
        """The session's timer of the running check's requests (none outside a grading session)."""
        return self.session.call_times.timed(what) if self.session is not None else contextlib.nullcontext()

    @contextlib.contextmanager
    def _in_words(self, *names: str):
        """Refuse a name defined twice; say a sandbox failure to the student (and a failed load to the session)."""
        try:
            for name in names:
                self._check_name(name)  # a failed load first: it is said once, at the top
                conflict = self.prepared.conflicts.get(name)
                if conflict:
                    raise SubmissionLoadError(f"`{name}` is defined in both {conflict[0]} and {conflict[1]}; keep "
                                              "one definition")
            yield
        except SandboxFailure as failure:
            error = student_error(failure, self.prepared, load_problems=self.load_problems,
                                  load_timeout_s=self.config.load_timeout_s)
            if isinstance(failure, LoadFailed) and self.session is not None:
                self.session.worker_failed_to_load(str(error))
            raise error from None

    def _answers_before_sharing(self) -> None:
        """Read ANSWERS while the worker holds no grader file: read at the end, after a check was handed
        one, it would need a worker of its own (sandbox/shared.py), a whole start for free text."""
        if self._answers is not None:
            return
        try:
            with self._in_words():
                self._ensure_started()
        except SubmissionError:
            return  # the submission does not load: the check that shares says so
        self._answers = self.collect_answers()

    def collect_answers(self) -> dict:
        """The free-text ANSWERS, for manual grading ({} when there are none)."""
        if self._answers is not None:
            return self._answers
        if ANSWERS not in self.names:
            return {}
        try:
            answers = self.get(ANSWERS, timeout=30)
        except SubmissionError as exc:
            return {"(error)": str(exc)}
        if not isinstance(answers, dict):
            return {"(error)": f"ANSWERS should be a dict of question id to text, got {type(answers).__name__}"}
        return {str(key): str(value)[:MAX_ANSWER_CHARS] for key, value in answers.items()}


def open_sandbox(session, kind: type[StudentSandbox] = StudentSandbox) -> StudentSandbox:
    """The (not yet started) sandbox of the session's prepared submission."""
    settings = session.rubric.section("sandbox", SandboxSettings)
    sandbox = kind(session.prepared, seed=worker_seed(session.seed),
                   config=sandbox_config(settings, isolation=session.options.isolation,
                                         threads=session.options.threads, parallel=session.options.parallel))
    sandbox.session = session
    return sandbox


def sandbox_config(settings: SandboxSettings, *, isolation: str, threads: int | None,
                   parallel: int = 1) -> SandboxConfig:
    """The worker's timeouts and limits from the rubric's [sandbox] section.

    Args:
        threads: the worker's math threads; default: the machine's cores / `parallel`, at most the rubric's.
        parallel: gradings sharing this machine at once (their workers share its memory and cores): each
            worker's memory cap is the machine's memory × `memory_share` / `parallel`, at most the
            rubric's `memory_gib`, so that a batch never exceeds the machine; its CPU limit is the
            machine's cores × `cpu_share` / `parallel`, at most every core.
    """
    parallel = max(1, parallel)
    share = cgroup.machine_memory_bytes() * settings.memory_share / parallel
    memory = int(min(settings.memory_gib * 2**30, share))
    cores = machine_cores()
    limits = Limits(cpu_seconds=settings.cpu_seconds, processes=settings.processes,
                    scratch_bytes=int(settings.scratch_mib * 2**20), memory_bytes=memory,
                    file_bytes=int(settings.file_mib * 2**20), open_files=settings.open_files,
                    threads=int(threads or worker_threads(settings.threads, parallel=parallel)),
                    uid=settings.worker_uid, cpus=min(cores, cores * settings.cpu_share / parallel))
    replies = FrameLimits(max_bytes=int(settings.reply_mib * 2**20), max_header_bytes=REPLY_LIMITS.max_header_bytes,
                          max_items=REPLY_LIMITS.max_items)
    return SandboxConfig(isolation=isolation, call_timeout_s=settings.call_timeout_s,
                         probe_timeout_s=settings.probe_timeout_s, load_timeout_s=settings.load_timeout_s,
                         function_budget_s=settings.function_budget_s, limits=limits, reply_limits=replies,
                         hidden_paths=tuple(PROJECT_ROOT / name for name in HIDDEN_FROM_WORKER))


@contextlib.contextmanager
def worker_slots(rubric, options: GradingOptions, *, count: int):
    """A batch's `count` worker slots (sandbox/zygotes.py) for gradings made with `options`, closed at the end.

    Yields None where the rubric turns them off (`[sandbox] worker_slots`) or they cannot run here (not
    root, no bubblewrap, no cgroup): each grading then starts a fresh worker per student, as alone.
    """
    settings = rubric.section("sandbox", SandboxSettings)
    pool = None
    if settings.worker_slots and count > 0:
        config = sandbox_config(settings, isolation=options.isolation, threads=options.threads,
                                parallel=options.parallel)
        pool = open_pool(count, limits=config.limits, isolation=config.isolation, hidden=list(config.hidden_paths))
    try:
        yield pool
    finally:
        if pool is not None:
            pool.close()


def machine_cores() -> int:
    """The cores this grader may run on (its CPU affinity: a container's cpuset counts)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def worker_threads(most: int, *, parallel: int) -> int:
    """Math threads of one worker: the cores split between the parallel gradings, at most `most`."""
    return max(1, min(most, machine_cores() // max(1, parallel)))
