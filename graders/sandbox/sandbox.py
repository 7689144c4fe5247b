"""The grader's side of the sandbox: start the worker, send calls, survive whatever happens.

A `Sandbox` owns one worker process for one submission. It is started lazily, restarted
after a crash or a timeout (in a fresh folder each time), and every failure of student code
becomes a `SubmissionError` with a message written for the student. A function that ran out
of time fails its later calls at once, with the same message: a hang costs one timeout.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from graders.core.errors import (CallTimeout, HarnessError, MissingName, NotAttempted, StudentException,
                                    SubmissionError, SubmissionLoadError, UnusableName, WorkerCrashed, WrongType)
from graders.core.isolation import Isolation
from graders.inside import wire
from graders.sandbox import isolation as confine
from graders.sandbox import workdir
from graders.sandbox.cgroup import WorkerCgroup
from graders.sandbox.channel import Channel, Closed, Expired
from graders.sandbox.outcomes import describe_request, exit_code_soon, exit_reason, peak_rss_of
from graders.submission.explain import (locate, locate_problems, missing_name_message, relocate_traceback,
                                        skipped_hint)

if TYPE_CHECKING:
    from graders.submission.loader import PreparedSubmission

INSIDE_DIR = Path(__file__).resolve().parents[1] / "inside"  # copied into every sandbox
OUTPUT_TAIL_BYTES = 64 * 1024
# What a reply may hold: far above any legitimate result, far below what hurts the grading process.
REPLY_LIMITS = wire.FrameLimits(max_bytes=64 * 2**20, max_header_bytes=8 * 2**20, max_items=500_000)


class UnconfinedRootWarning(UserWarning):
    """The worker runs as root without bubblewrap: the submission can act as root on this machine."""


@dataclass(frozen=True)
class SandboxConfig:
    """Timeouts, limits and isolation of one submission's worker."""

    isolation: str = "auto"
    call_timeout_s: float = 20.0  # a plain call or read of a global
    probe_timeout_s: float = 60.0  # a probe whose grader gives no timeout of its own
    load_timeout_s: float = 120.0
    limits: confine.Limits = field(default_factory=confine.Limits)
    hidden_paths: tuple[Path, ...] = ()
    reply_limits: wire.FrameLimits = REPLY_LIMITS


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
        self.isolation = confine.choose_level(config.isolation, config.limits.uid)
        self.load_problems: list[dict] = []
        self.names: list[str] = []
        self.starts = 0
        self.load_seconds = 0.0
        self.used_cgroup = False
        self._peak_rss = 0
        self._workdir: Path | None = None
        self._process: subprocess.Popen | None = None
        self._channel: Channel | None = None
        self._cgroup: WorkerCgroup | None = None
        self._baseline_processes = 0
        self._load_failure: str | None = None
        self._loading_at: tuple[str, int] | None = None  # the top-level statement the worker is running
        self._timed_out: dict[tuple, tuple[float, str]] = {}  # request key -> (budget, message)
        self._shared: dict[tuple, Path] = {}  # grader files in the current worker's inputs
        self._request_id = 0
        self._output = collections.deque()
        self._output_size = 0
        self._output_lock = threading.Lock()
        if self.isolation == confine.PROCESS and confine.running_as_root():
            warnings.warn(confine.unconfined_root_warning(), UnconfinedRootWarning, stacklevel=2)

    # -- public API ---------------------------------------------------------------------

    def call(self, name: str, *args, timeout: float | None = None, **kwargs):
        """Call the student's function `name` with plain-data arguments.

        Returns:
            The plain-data result (numbers, strings, lists, tuples, dicts, ndarrays).

        Raises:
            SubmissionError: missing name, student exception, timeout, crash, non-plain result.
        """
        self._check_name(name)
        request = {"op": "call", "name": name, "args": list(args), "kwargs": kwargs}
        return self._request(request, timeout or self.config.call_timeout_s)

    def get(self, name: str, *, timeout: float | None = None):
        """Return the value of the student's global `name` as plain data."""
        self._check_name(name)
        return self._request({"op": "get", "name": name, "args": [], "kwargs": {}}, timeout or self.config.call_timeout_s)

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
        return self._request(request, timeout or self.config.probe_timeout_s)

    def share_file(self, source: Path | str) -> str:
        """Copy a grader file (say a trained reference model) where the (started) worker can read it.

        Returns:
            The copy's path as the worker sees it, to pass as a call or probe argument.
        """
        self._ensure_started()
        stat = os.stat(source)
        key = (os.path.realpath(source), stat.st_size, stat.st_mtime_ns)
        if key not in self._shared:
            name = Path(source).name
            taken = {path.name for path in self._shared.values()}
            unique = name if name not in taken else f"{len(self._shared)}-{name}"
            try:
                self._shared[key] = workdir.copy_in(source, self._workdir / "inputs", unique)
            except FileExistsError:  # planted by a worker that can write its folder (process isolation)
                self._kill()
                raise WorkerCrashed(f"the worker put a file where the grader shares {name} with it; it was "
                                    "restarted") from None
        return str(self._shared[key])

    @property
    def isolation_description(self) -> Isolation:
        """What ran, as the results record it (see isolation.describe)."""
        return confine.describe(self.isolation, cgroup=self.used_cgroup)

    def output_tail(self, limit: int = 2000) -> str:
        """The last `limit` characters the worker printed (stdout and stderr together)."""
        with self._output_lock:
            text = b"".join(self._output).decode("utf-8", "replace")
        return text[-limit:]

    def close(self) -> None:
        """Kill the worker (and everything it started) and delete its folder."""
        self._kill()
        workdir.remove(self._workdir)
        self._workdir = None

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- requests -----------------------------------------------------------------------

    def _request(self, request: dict, budget: float):
        key = (request["op"], request.get("module"), request["name"])
        expired = self._timed_out.get(key)
        if expired is not None and budget <= expired[0]:
            raise CallTimeout(expired[1])  # it hung before: no second wait, no restart for it
        self._ensure_started()
        self._request_id += 1
        request.update(seed=self.seed, id=self._request_id)
        try:
            reply = self._exchange(request, budget, what=describe_request(request))
        except CallTimeout as exc:
            self._timed_out[key] = (budget, str(exc))
            raise
        if self._cgroup is not None and len(self._cgroup.pids()) > self._baseline_processes:
            self._kill()  # the call left processes behind (a daemon, a fork): none may outlive it
        if reply.get("ok") is True:
            return reply.get("value")
        raise self._error_from_reply(request, reply)

    def _exchange(self, request: dict, timeout: float, *, what: str, on_loading=None) -> dict:
        """Send `request` and read its reply, both within `timeout` (decoding included)."""
        deadline = time.monotonic() + timeout
        try:
            frame = wire.encode(request)
        except wire.WireError as exc:
            raise HarnessError(f"the grader sent non-plain data: {exc}") from None
        try:
            self._channel.send(frame, deadline)
            reply = self._channel.receive(deadline, self.config.reply_limits)
            while on_loading is not None and isinstance(reply, dict) and set(reply) == {"loading"}:
                on_loading(reply["loading"])
                reply = self._channel.receive(deadline, self.config.reply_limits)
        except Expired:
            self._kill()
            raise CallTimeout(f"{what} ran longer than {timeout:g} s and was stopped") from None
        except Closed:
            raise self._crashed(what) from None
        except wire.WireError as exc:
            self._kill()
            raise WrongType(f"{what}: the result could not be read back ({exc}); the worker was restarted") from None
        if not isinstance(reply, dict) or reply.get("id") != request.get("id"):
            self._kill()
            raise WorkerCrashed(f"{what}: the worker's reply did not answer this request (does the code write to "
                                "the grader's pipe?); the worker was restarted")
        return reply

    def _error_from_reply(self, request: dict, reply: dict) -> SubmissionError:
        kind = reply.get("kind")
        if kind == "missing":
            name = str(reply.get("name") or request.get("name"))
            is_global = request["op"] == "get"
            unusable = skipped_hint(self.prepared, name, is_global=is_global, load_problems=self.load_problems)
            message = missing_name_message(self.prepared, name, detail=str(reply.get("message") or ""),
                                           is_global=is_global, load_problems=self.load_problems)
            return (UnusableName if unusable else MissingName)(message)
        if kind == "type":
            return WrongType(f"{describe_request(request)}: {reply.get('message')}")
        if reply.get("error_type") == "NotImplementedError":  # the starter's stub, never filled in
            return NotAttempted(f"{describe_request(request)} raises NotImplementedError")
        message = f"{describe_request(request)} raised {reply.get('message')}"
        if reply.get("error_type") == "MemoryError":
            message += f" (the sandbox allows {self._memory_cap()} of memory per worker)"
        hint = skipped_hint(self.prepared, reply.get("missing_name"), load_problems=self.load_problems)
        trace = relocate_traceback(self.prepared, str(reply.get("traceback") or ""))[-2000:]
        return StudentException(message + (f"\n{hint}" if hint else "") + (f"\n{trace}" if trace else ""))

    # -- lifecycle ----------------------------------------------------------------------

    def _ensure_started(self) -> None:
        if self._load_failure is not None:
            raise SubmissionLoadError(self._load_failure)
        if self._process is not None and self._process.poll() is None:
            return
        self._start()

    def _start(self) -> None:
        self.close()  # the old worker and its folder: nothing of them is reused or read
        self._workdir, self._shared = workdir.create(self.prepared.units, INSIDE_DIR), {}
        self._channel = Channel()
        requests_read, results_write = self._channel.worker_fds
        worker = str(self._workdir / "_harness" / "worker.py")
        command = [sys.executable, "-I", worker, "--requests", str(requests_read), "--results", str(results_write)]
        limits = self.config.limits
        command = confine.wrap_command(self.isolation, command, workdir=self._workdir,
                                       hidden=list(self.config.hidden_paths), limits=limits)
        self._cgroup = WorkerCgroup.create(max_processes=limits.processes, memory_bytes=limits.memory_bytes)
        self.used_cgroup = self.used_cgroup or self._cgroup is not None
        self._process = subprocess.Popen(
            command, pass_fds=self._channel.worker_fds, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, env=confine.worker_environment(self._workdir, limits.threads),
            cwd=self._workdir / "scratch", start_new_session=True, preexec_fn=confine.child_setup(limits, self._cgroup),
        )
        self._channel.started()
        self.starts += 1
        threading.Thread(target=self._drain_output, args=(self._process.stdout,), daemon=True).start()
        self._load(self._workdir / "submission")

    def _load(self, submission_dir: Path) -> None:
        units = [[unit.filename, unit.origin] for unit in self.prepared.units]
        self._request_id += 1
        config = {"submission_dir": str(submission_dir), "scratch_dir": str(self._workdir / "scratch"),
                  "units": units, "seed": self.seed, "id": self._request_id,
                  "unprivileged": self.isolation == confine.BUBBLEWRAP}
        started = time.perf_counter()
        self._loading_at = None
        try:
            hello = self._exchange(config, self.config.load_timeout_s, what="loading the submission",
                                   on_loading=self._note_loading)
        except CallTimeout:
            self._load_failure = self._load_timeout_message()
            raise SubmissionLoadError(self._load_failure) from None
        except SubmissionError as exc:
            self._load_failure = f"the submission could not be loaded: {exc}"
            raise SubmissionLoadError(self._load_failure) from None
        self.load_seconds += time.perf_counter() - started
        self._baseline_processes = len(self._cgroup.pids()) if self._cgroup else 0
        problems = hello.get("problems")
        self.load_problems = locate_problems(self.prepared, problems if isinstance(problems, list) else [])
        names = hello.get("names")
        self.names = [n for n in names if isinstance(n, str)] if isinstance(names, list) else []

    def _note_loading(self, where) -> None:
        if isinstance(where, dict) and isinstance(where.get("filename"), str) and type(where.get("line")) is int:
            self._loading_at = (where["filename"], where["line"])

    def _load_timeout_message(self) -> str:
        running = ""
        if self._loading_at is not None:
            running = f", while running {locate(self.prepared, *self._loading_at, quote=True)}"
        return (f"loading the submission took longer than {self.config.load_timeout_s:g} s{running}: does it train "
                "or search at the top level? Move that into a function (in a .py file, or under "
                "`if __name__ == \"__main__\":`)")

    def peak_rss_bytes(self) -> int:
        """The largest resident memory any worker of this sandbox has reached so far."""
        if self._process is not None:
            pids = self._cgroup.pids() if self._cgroup else {self._process.pid}
            self._peak_rss = max([self._peak_rss, *(peak_rss_of(pid) for pid in pids)])
        return self._peak_rss

    def _kill(self) -> None:
        """Stop the worker and everything it started; close its pipes (also after a failed start)."""
        if self._process is not None:
            self.peak_rss_bytes()
        process, self._process = self._process, None
        if process is not None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self._cgroup is not None:  # also what left the process group (setsid daemons, forks)
            self._cgroup.remove()
            self._cgroup = None
        if process is not None:
            process.wait()
        if self._channel is not None:
            self._channel.close()
            self._channel = None

    def _crashed(self, what: str) -> WorkerCrashed:
        code = exit_code_soon(self._process)
        out_of_memory = self._cgroup is not None and self._cgroup.out_of_memory_kills() > 0
        self._kill()
        tail = self.output_tail(600).strip()
        output = f"\nLast output:\n{tail}" if tail else ""
        reason = (f"it ran out of memory: the sandbox allows {self._memory_cap()} per worker, and the kernel "
                  "stopped it there" if out_of_memory else exit_reason(code, self.isolation))
        return WorkerCrashed(f"{what}: {reason}{output}")

    def _memory_cap(self) -> str:
        return f"{self.config.limits.memory_bytes / 2**30:.1f} GiB"

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
