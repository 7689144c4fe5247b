"""The grader's side of the sandbox: start the worker, send calls, survive whatever happens.

A `Sandbox` owns one worker process for one submission. It is started lazily, restarted
after a crash or a timeout, and every failure of student code becomes a `SubmissionError`
with a message written for the student.
"""

from __future__ import annotations

import collections
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from graders.sandbox import isolation as confine
from graders.inside import wire
from graders.sandbox.cgroup import WorkerCgroup
from graders.submission.explain import missing_name_message, skipped_hint
from graders.harness.errors import (
    CallTimeout,
    HarnessError,
    MissingName,
    NotAttempted,
    StudentException,
    SubmissionError,
    SubmissionLoadError,
    WorkerCrashed,
    WrongType,
)

if TYPE_CHECKING:
    from graders.submission.loader import PreparedSubmission

INSIDE_DIR = Path(__file__).resolve().parents[1] / "inside"  # copied into every sandbox
OUTPUT_TAIL_BYTES = 64 * 1024
WORKER_INTERNAL_ERROR = 70  # worker.INTERNAL_ERROR (the worker cannot be imported here)


@dataclass(frozen=True)
class SandboxConfig:
    """Timeouts, limits and isolation of one submission's worker."""

    isolation: str = "auto"
    call_timeout_s: float = 60.0
    load_timeout_s: float = 120.0
    limits: confine.Limits = field(default_factory=confine.Limits)
    hidden_paths: tuple[Path, ...] = ()


class Sandbox:
    """Runs one prepared submission in a worker process and calls into it by name.

    Args:
        prepared: the loaded submission (plain source text; nothing of it has run yet).
        seed: seeds Python, NumPy and Keras in the worker before loading and before each call.
        config: timeouts, limits, isolation level and paths to hide from the worker.
    """

    def __init__(self, prepared: PreparedSubmission, *, seed: int, config: SandboxConfig) -> None:
        self.prepared = prepared
        self.seed = seed
        self.config = config
        self.isolation = confine.choose_level(config.isolation)
        self.load_problems: list[dict] = []
        self.names: list[str] = []
        self.starts = 0
        self.load_seconds = 0.0
        self._peak_rss = 0
        self._workdir = Path(tempfile.mkdtemp(prefix="hw3sandbox-"))
        self._process: subprocess.Popen | None = None
        self._cgroup: WorkerCgroup | None = None
        self._baseline_processes = 0
        self.used_cgroup = False
        self._load_failure: str | None = None
        self._output = collections.deque()
        self._output_size = 0
        self._output_lock = threading.Lock()

    # -- public API ---------------------------------------------------------------------

    def call(self, name: str, *args, timeout: float | None = None, **kwargs):
        """Call the student's function `name` with plain-data arguments.

        Returns:
            The plain-data result (numbers, strings, lists, tuples, dicts, ndarrays).

        Raises:
            SubmissionError: missing name, student exception, timeout, crash, non-plain result.
        """
        self._check_name(name)
        return self._request({"op": "call", "name": name, "args": list(args), "kwargs": kwargs}, timeout)

    def get(self, name: str, *, timeout: float | None = None):
        """Return the value of the student's global `name` as plain data."""
        self._check_name(name)
        return self._request({"op": "get", "name": name, "args": [], "kwargs": {}}, timeout)

    def probe(self, module: str, name: str, *, needs: tuple[str, ...] = (), timeout: float | None = None, **kwargs):
        """Run grader-written code `probes.<module>.<name>(**student_functions, **kwargs)` inside the worker.

        Args:
            needs: the student's functions the probe takes, by name; a missing one fails the call
                with MissingName, as a direct call would.

        Probes are trusted code running among untrusted code: their results are as
        untrusted as the student's and must be checked like them.
        """
        for function in needs:
            self._check_name(function)
        request = {"op": "probe", "module": module, "name": name, "needs": list(needs), "kwargs": kwargs}
        return self._request(request, timeout)

    def share_file(self, source: Path | str) -> str:
        """Copy a grader file (say a trained reference model) where the worker can read it.

        Returns:
            The copy's path as the worker sees it, to pass as a call or probe argument.
        """
        target = self._workdir / "inputs" / Path(source).name
        shutil.copyfile(source, target)
        return str(target)

    @property
    def isolation_description(self) -> str:
        """What the results JSON records: the level, plus "+cgroup" when a cgroup capped the worker."""
        return f"{self.isolation}+cgroup" if self.used_cgroup else self.isolation

    def output_tail(self, limit: int = 2000) -> str:
        """The last `limit` characters the worker printed (stdout and stderr together)."""
        with self._output_lock:
            text = b"".join(self._output).decode("utf-8", "replace")
        return text[-limit:]

    def close(self) -> None:
        """Kill the worker (and everything it started) and delete the temporary folder."""
        self._kill()
        shutil.rmtree(self._workdir, ignore_errors=True)

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- requests -----------------------------------------------------------------------

    def _request(self, request: dict, timeout: float | None):
        self._ensure_started()
        request["seed"] = self.seed
        reply = self._exchange(request, timeout or self.config.call_timeout_s, what=_describe_request(request))
        if self._cgroup is not None and len(self._cgroup.pids()) > self._baseline_processes:
            self._kill()  # the call left processes behind (a daemon, a fork): none may outlive it
        if reply.get("ok") is True:
            return reply.get("value")
        raise self._error_from_reply(request, reply)

    def _exchange(self, request: dict, timeout: float, *, what: str) -> dict:
        try:
            wire.write_frame(self._requests_fd, request)
        except (BrokenPipeError, OSError):
            raise self._crashed(what) from None
        except wire.WireError as exc:
            raise HarnessError(f"the grader sent non-plain data: {exc}") from None
        reply = self._read_reply(timeout, what=what)
        if not isinstance(reply, dict):
            self._kill()
            raise WorkerCrashed(f"{what}: the worker sent a malformed reply; it was restarted")
        return reply

    def _read_reply(self, timeout: float, *, what: str):
        deadline = time.monotonic() + timeout
        buffer = b""
        while True:
            try:
                parts = wire.split_frame(buffer)
                if parts is not None:
                    return wire.decode(parts[0], parts[1])
            except wire.WireError as exc:
                self._kill()
                raise WrongType(f"{what}: the result could not be read back ({exc})") from None
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._kill()
                raise CallTimeout(f"{what} ran longer than {timeout:g} s and was stopped")
            ready, _, _ = select.select([self._results_fd], [], [], min(remaining, 1.0))
            if ready:
                chunk = os.read(self._results_fd, 1 << 20)
                if not chunk:
                    raise self._crashed(what)
                buffer += chunk

    def _error_from_reply(self, request: dict, reply: dict) -> SubmissionError:
        kind = reply.get("kind")
        if kind == "missing":
            name = str(reply.get("name") or request.get("name"))
            return MissingName(missing_name_message(self.prepared, name, detail=str(reply.get("message") or ""),
                                                    is_global=request["op"] == "get",
                                                    load_problems=self.load_problems))
        if kind == "type":
            return WrongType(f"{_describe_request(request)}: {reply.get('message')}")
        if reply.get("error_type") == "NotImplementedError":  # the starter's stub, never filled in
            return NotAttempted(f"{_describe_request(request)} raises NotImplementedError")
        message = f"{_describe_request(request)} raised {reply.get('message')}"
        hint = skipped_hint(self.prepared, reply.get("missing_name"))
        trace = str(reply.get("traceback") or "")[-2000:]
        return StudentException(message + (f"\n{hint}" if hint else "") + (f"\n{trace}" if trace else ""))

    # -- lifecycle ----------------------------------------------------------------------

    def _ensure_started(self) -> None:
        if self._load_failure is not None:
            raise SubmissionLoadError(self._load_failure)
        if self._process is not None and self._process.poll() is None:
            return
        self._start()

    def _start(self) -> None:
        self._kill()
        submission_dir = self._write_files()
        requests_read, self._requests_fd = os.pipe()
        self._results_fd, results_write = os.pipe()
        worker = str(self._workdir / "_harness" / "worker.py")
        command = [sys.executable, "-I", worker, "--requests", str(requests_read), "--results", str(results_write)]
        command = confine.wrap_command(
            self.isolation, command, workdir=self._workdir, hidden=list(self.config.hidden_paths),
            limits=self.config.limits,
        )
        limits = self.config.limits
        self._cgroup = WorkerCgroup.create(max_processes=limits.processes, memory_bytes=limits.memory_bytes)
        self.used_cgroup = self.used_cgroup or self._cgroup is not None
        self._process = subprocess.Popen(
            command,
            pass_fds=(requests_read, results_write),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=confine.worker_environment(self._workdir, self.config.limits.threads),
            cwd=self._workdir / "scratch",
            start_new_session=True,
            preexec_fn=confine.child_setup(limits, self._cgroup),
        )
        os.close(requests_read)
        os.close(results_write)
        self.starts += 1
        threading.Thread(target=self._drain_output, args=(self._process.stdout,), daemon=True).start()
        self._load(submission_dir)

    def _load(self, submission_dir: Path) -> None:
        units = [[unit.filename, unit.origin] for unit in self.prepared.units]
        config = {"submission_dir": str(submission_dir), "scratch_dir": str(self._workdir / "scratch"),
                  "units": units, "seed": self.seed}
        started = time.perf_counter()
        try:
            hello = self._exchange(config, self.config.load_timeout_s, what="loading the submission")
        except CallTimeout:
            self._load_failure = (
                f"loading the submission took longer than {self.config.load_timeout_s:g} s: is a training "
                "run or a search at the top level of a .py file? Guard it with `if __name__ == \"__main__\":`"
            )
            raise SubmissionLoadError(self._load_failure) from None
        except SubmissionError as exc:
            self._load_failure = f"the submission could not be loaded: {exc}"
            raise SubmissionLoadError(self._load_failure) from None
        self.load_seconds += time.perf_counter() - started
        self._baseline_processes = len(self._cgroup.pids()) if self._cgroup else 0
        self.load_problems = [p for p in hello.get("problems", []) if isinstance(p, dict)]
        self.names = [n for n in hello.get("names", []) if isinstance(n, str)]

    def _write_files(self) -> Path:
        submission_dir = self._workdir / "submission"
        shutil.rmtree(submission_dir, ignore_errors=True)
        for unit in self.prepared.units:
            target = submission_dir / unit.filename
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(unit.code, encoding="utf-8")
        submission_dir.mkdir(exist_ok=True)
        harness = self._workdir / "_harness"
        if not harness.exists():
            harness.mkdir()
            for name in ("worker.py", "wire.py"):
                shutil.copy(INSIDE_DIR / name, harness / name)
            shutil.copytree(INSIDE_DIR / "probes", harness / "probes", ignore=shutil.ignore_patterns("__pycache__"))
        for folder in confine.WRITABLE:
            (self._workdir / folder).mkdir(exist_ok=True)
        (self._workdir / "inputs").mkdir(exist_ok=True)
        return submission_dir

    def peak_rss_bytes(self) -> int:
        """The largest resident memory any worker of this sandbox has reached so far."""
        if self._process is not None:
            pids = self._cgroup.pids() if self._cgroup else {self._process.pid}
            self._peak_rss = max([self._peak_rss, *(_peak_rss_of(pid) for pid in pids)])
        return self._peak_rss

    def _kill(self) -> None:
        if self._process is not None:
            self.peak_rss_bytes()
        process, self._process = self._process, None
        if process is None:
            return
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self._cgroup is not None:  # also what left the process group (setsid daemons, forks)
            self._cgroup.remove()
            self._cgroup = None
        process.wait()
        os.close(self._requests_fd)
        os.close(self._results_fd)

    def _crashed(self, what: str) -> WorkerCrashed:
        code = _exit_code_soon(self._process)
        self._kill()
        tail = self.output_tail(600).strip()
        output = f"\nLast output:\n{tail}" if tail else ""
        return WorkerCrashed(f"{what}: {_exit_reason(code, self.isolation)}{output}")

    def _drain_output(self, stream) -> None:
        # Keep only a bounded tail, so a submission that floods its output cannot exhaust memory.
        for chunk in iter(lambda: stream.read1(8192), b""):
            with self._output_lock:
                self._output.append(chunk)
                self._output_size += len(chunk)
                while self._output_size > OUTPUT_TAIL_BYTES and len(self._output) > 1:
                    self._output_size -= len(self._output.popleft())

    # -- messages -----------------------------------------------------------------------

    def _check_name(self, name: str) -> None:
        if self._load_failure is not None:
            raise SubmissionLoadError(self._load_failure)
        conflict = self.prepared.conflicts.get(name)
        if conflict:
            raise SubmissionLoadError(
                f"`{name}` is defined in both {conflict[0]} and {conflict[1]}; keep one definition"
            )


def _describe_request(request: dict) -> str:
    if request.get("op") == "probe":
        return f"the grader's {request['name']} check"
    if request.get("op") == "get":
        return f"reading `{request['name']}`"
    return f"`{request['name']}(...)`"


def _peak_rss_of(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def _exit_code_soon(process: subprocess.Popen | None, wait_s: float = 5.0) -> int | None:
    # The results pipe closes a moment before the process is reaped; a worker that
    # merely closed the pipe and lives on gets None (and is killed by the caller).
    if process is None:
        return None
    try:
        return process.wait(timeout=wait_s)
    except subprocess.TimeoutExpired:
        return None


def _exit_reason(code: int | None, level: str) -> str:
    if code is None:
        return "the worker stopped"
    if level == confine.BUBBLEWRAP and code > 128:
        code = -(code - 128)  # bubblewrap reports a signal death of its child as 128 + signal
    if code == WORKER_INTERNAL_ERROR:
        return ("the worker failed while handling your code (does it patch Python's builtins, numpy or "
                "the os module at the top level?)")
    if code >= 0:
        return f"the process exited with status {code} (does the code call sys.exit(), os._exit() or exit()?)"
    reasons = {
        signal.SIGXCPU: "it used up its CPU-time limit",
        signal.SIGXFSZ: "it wrote a file larger than the sandbox allows",
        signal.SIGSEGV: "it crashed with a segmentation fault",
        signal.SIGKILL: "it was killed (out of memory, or it killed itself)",
    }
    return reasons.get(-code, f"it was killed by signal {-code}")
