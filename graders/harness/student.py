"""The student's sandbox as graders use it: configured from the rubric, reporting back to the session."""

from __future__ import annotations

from graders.core.contract import ANSWERS
from graders.core.errors import SubmissionError, SubmissionLoadError
from graders.core.options import BENCHMARK_ISOLATION
from graders.core.paths import PROJECT_ROOT
from graders.core.seeds import worker_seed
from graders.sandbox.direct import DirectSandbox
from graders.sandbox.sandbox import Sandbox, SandboxConfig

MAX_ANSWER_CHARS = 20_000


class StudentSandbox(Sandbox):
    """A Sandbox that tells its grading session when the submission's top level cannot be run."""

    session = None  # the GradingSession, set by open_sandbox

    def _ensure_started(self) -> None:
        try:
            super()._ensure_started()
        except SubmissionLoadError as exc:
            if self.session is not None:
                self.session.worker_failed_to_load(str(exc))
            raise

    def collect_answers(self) -> dict:
        """The free-text ANSWERS, for manual grading ({} when there are none)."""
        if ANSWERS not in self.names:
            return {}
        try:
            answers = self.get(ANSWERS, timeout=30)
        except SubmissionError as exc:
            return {"(error)": str(exc)}
        if not isinstance(answers, dict):
            return {"(error)": f"ANSWERS should be a dict of question id to text, got {type(answers).__name__}"}
        return {str(key): str(value)[:MAX_ANSWER_CHARS] for key, value in answers.items()}


class DirectStudentSandbox(DirectSandbox, StudentSandbox):
    """Benchmark only (see graders.sandbox.direct)."""


def open_sandbox(session) -> StudentSandbox:
    """The (not yet started) sandbox of the session's prepared submission."""
    from graders.harness.session import SandboxSettings

    settings = session.rubric.section("sandbox", SandboxSettings)
    direct = session.options.isolation == BENCHMARK_ISOLATION
    kind = DirectStudentSandbox if direct else StudentSandbox
    sandbox = kind(session.prepared, seed=worker_seed(session.seed),
                   config=sandbox_config(settings, isolation="process" if direct else session.options.isolation,
                                         threads=session.options.threads, parallel=session.options.parallel))
    sandbox.session = session
    return sandbox


def sandbox_config(settings, *, isolation: str, threads: int | None, parallel: int = 1) -> SandboxConfig:
    """The worker's timeouts and limits from the rubric's [sandbox] section.

    Args:
        parallel: gradings sharing this machine at once (their workers share its memory): each
            worker's memory cap is the machine's memory × `memory_share` / `parallel`, at most the
            rubric's `memory_gib`, so that a batch never exceeds the machine.
    """
    from graders.harness.session import HIDDEN_FROM_WORKER
    from graders.inside.wire import FrameLimits
    from graders.sandbox.cgroup import machine_memory_bytes
    from graders.sandbox.isolation import Limits
    from graders.sandbox.sandbox import REPLY_LIMITS

    share = machine_memory_bytes() * settings.memory_share / max(1, parallel)
    memory = int(min(settings.memory_gib * 2**30, share))
    limits = Limits(cpu_seconds=settings.cpu_seconds, processes=settings.processes,
                    scratch_bytes=int(settings.scratch_mib * 2**20), memory_bytes=memory,
                    file_bytes=int(settings.file_mib * 2**20), open_files=settings.open_files,
                    threads=int(threads or settings.threads), uid=settings.worker_uid)
    replies = FrameLimits(max_bytes=int(settings.reply_mib * 2**20), max_header_bytes=REPLY_LIMITS.max_header_bytes,
                          max_items=REPLY_LIMITS.max_items)
    return SandboxConfig(isolation=isolation, call_timeout_s=settings.call_timeout_s,
                         probe_timeout_s=settings.probe_timeout_s, load_timeout_s=settings.load_timeout_s,
                         limits=limits, reply_limits=replies,
                         hidden_paths=tuple(PROJECT_ROOT / name for name in HIDDEN_FROM_WORKER))
