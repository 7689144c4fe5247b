"""The grader's side of the sandbox: start the worker, send calls, survive whatever happens.

A `Sandbox` owns one worker process for one submission. It is started lazily, restarted
after a crash or a timeout (in a fresh folder each time), and every failure of student code
raises a `SandboxFailure` (sandbox/failures.py) that says what happened; the grading side words
it for the student (harness/student.py). A function that ran out of time fails its later calls
at once, with the same failure: a hang costs one timeout.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from graders.core.errors import HarnessError
from graders.core.isolation import Isolation
from graders.inside import wire
from graders.sandbox import cleanup, failures, seccomp, workdir
from graders.sandbox import isolation as confine
from graders.sandbox.budgets import FunctionBudgets
from graders.sandbox.cgroup import WorkerCgroup
from graders.sandbox.channel import Channel, Closed, Expired
from graders.sandbox.outcomes import exit_code_soon, peak_rss_of, signal_of_wrapped, worker_chain
from graders.sandbox.output import OutputTail
from graders.sandbox.shared import Block, HeldFiles, copy_into

if TYPE_CHECKING:
    from graders.submission.loader import PreparedSubmission

INSIDE_DIR = Path(__file__).resolve().parents[1] / "inside"  # copied into every sandbox
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
    function_budget_s: float | None = None  # one function's calls (or global's reads) in all; None: no total
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
        self.worker_problems: list = []  # what failed while the worker ran the top level, as it reported it
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
        self.load_failure: failures.LoadFailed | None = None
        self._loading_at: tuple[str, int] | None = None  # the top-level statement the worker is running
        self._timed_out: dict[tuple, failures.TimedOut] = {}  # request key -> its timeout
        self._shared: dict[tuple, Path] = {}  # grader files in the current worker's inputs
        self._held = HeldFiles()  # which of them the worker was given: it goes before a request that is not
        self._budgets = FunctionBudgets(config.function_budget_s)
        self._request_id = 0
        self._output = OutputTail()
        if self.isolation == confine.PROCESS and confine.running_as_root():
            warnings.warn(confine.unconfined_root_warning(), UnconfinedRootWarning, stacklevel=2)
        cleanup.track(self)  # SIGTERM and SIGINT close it: no worker, cgroup or folder outlives the grading

    # -- public API ---------------------------------------------------------------------

    def call(self, name: str, *args, timeout: float | None = None, **kwargs):
        """Call the student's function `name` with plain-data arguments.

        Returns:
            The plain-data result (numbers, strings, lists, tuples, dicts, ndarrays).

        Raises:
            SandboxFailure: missing name, student exception, timeout, crash, non-plain result.
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

        Only requests that name the returned path among their arguments run in a worker that holds
        it: before any other, the worker is restarted (sandbox/shared.py). `shared` does the same
        for a block.

        Returns:
            The copy's path as the worker sees it, to pass as a call or probe argument.
        """
        self._ensure_started()
        path = self._copy_in(source)
        self._held.given(path, source=str(source))
        return path

    @contextlib.contextmanager
    def shared(self, source: Path | str):
        """`with sandbox.shared(path) as inside_path:` a grader file the block's requests may read.

        The copy is deleted when the block ends, and the next request made outside such a block
        runs in a new worker (fresh folder, fresh writable places, fresh memory): whatever the
        student's code did with the file (kept it open, loaded it, copied it) is gone with the worker.
        """
        block = Block(str(source))
        self._held.blocks.append(block)
        try:
            self._ensure_started()
            block.inside = self._copy_in(source)
            self._held.given(block.inside)
            yield block.inside
        finally:
            self._held.blocks.remove(block)
            self._delete_copy(block.inside)

    def _copy_in(self, source: Path | str) -> str:
        try:
            return copy_into(self._shared, source, self._workdir / "inputs")
        except FileExistsError:  # planted by a worker that can write its folder (process isolation)
            self._kill()
            raise failures.PlantedFile(failures.Request("share"), name=Path(source).name) from None

    def _delete_copy(self, inside: str | None) -> None:
        for key, path in list(self._shared.items()):
            if str(path) == inside:
                del self._shared[key]
                workdir.remove_file(path)

    def _share_open_blocks(self, blocks: list[Block]) -> None:
        """A worker started during a `shared` block gets the block's file too (under its own folder)."""
        for block in blocks:
            new = self._copy_in(block.source)
            self._held.moved_to(block.inside, new)
            block.inside = new
            self._held.given(new)

    @property
    def isolation_description(self) -> Isolation:
        """What ran, as the results record it (see isolation.describe)."""
        return confine.describe(self.isolation, cgroup=self.used_cgroup)

    def output_tail(self, limit: int = 2000) -> str:
        """The last `limit` characters the worker printed (stdout and stderr together)."""
        return self._output.text(limit)

    def close(self) -> None:
        """Kill the worker (and everything it started) and delete its folder."""
        self._kill()
        workdir.remove(self._workdir)
        self._workdir = None
        self._shared = {}

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- requests -----------------------------------------------------------------------

    def _request(self, request: dict, budget: float):
        key = (request["op"], request.get("module"), request["name"])
        expired = self._timed_out.get(key)
        if expired is not None and budget <= expired.budget_s:
            # It hung before: no second wait, no restart for it.
            raise failures.TimedOut(expired.request, budget_s=expired.budget_s)
        totalled = request["op"] in ("call", "get")  # a contract function or global; probes have their own budgets
        budget, cut_short = self._budgets.call_budget(request["name"], budget) if totalled else (budget, False)
        if cut_short and budget <= 0:
            raise self._budgets.spent_failure(request)
        request = self._worker_given_only_its_files(request)
        self._request_id += 1
        request.update(seed=self.seed, id=self._request_id)
        try:
            with self._budgets.timing(request["name"]) if totalled else contextlib.nullcontext():
                reply = self._exchange(request, budget)
        except failures.TimedOut as exc:
            if cut_short:
                raise self._budgets.spent_failure(request) from None
            self._timed_out[key] = exc
            raise
        if self._cgroup is not None and len(self._cgroup.pids()) > self._baseline_processes:
            self._kill()  # the call left processes behind (a daemon, a fork): none may outlive it
        if reply.get("ok") is True:
            return reply.get("value")
        raise failures.from_reply(request, reply, memory_cap_bytes=self.config.limits.memory_bytes)

    def _worker_given_only_its_files(self, request: dict) -> dict:
        """Start the worker if needed; first restart it if it holds a grader file `request` is not given.

        Returns:
            `request` with the paths of the files it is given as the (new) worker sees them.
        """
        carried = {}
        if self._held.must_restart_for(request):
            carried = self._held.carried(request)
            self._kill()  # a new worker, that never held the file
        self._ensure_started()
        for old, source in carried.items():  # the files the request is given, in the new worker's folder
            new = self._copy_in(source)
            self._held.given(new, source=source)
            self._held.moved_to(old, new)
        return self._held.current_paths(request)

    def _exchange(self, request: dict, timeout: float, *, on_loading=None) -> dict:
        """Send `request` and read its reply, both within `timeout` (decoding included).

        Raises:
            TimedOut, Crashed, UnreadableReply, WrongReply (sandbox/failures.py): the worker is killed
                (restarted on the next request).
        """
        asked = failures.Request.of(request)
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
            raise failures.TimedOut(asked, budget_s=timeout) from None
        except Closed:
            raise self._crashed(asked) from None
        except wire.WireError as exc:
            self._kill()
            raise failures.UnreadableReply(asked, reason=str(exc)) from None
        if not isinstance(reply, dict) or reply.get("id") != request.get("id"):
            self._kill()
            raise failures.WrongReply(asked)
        return reply

    # -- lifecycle ----------------------------------------------------------------------

    def _ensure_started(self) -> None:
        if self.load_failure is not None:
            raise self.load_failure
        if self._process is not None and self._process.poll() is None:
            return
        self._start()

    def _start(self) -> None:
        self.close()  # the old worker and its folder: nothing of them is reused or read
        blocks = self._held.restarted()
        self._workdir = workdir.create(self.prepared.units, INSIDE_DIR)
        self._channel = Channel()
        requests_read, results_write = self._channel.worker_fds
        worker = str(self._workdir / "_harness" / "worker.py")
        command = [sys.executable, "-I", worker, "--requests", str(requests_read), "--results", str(results_write)]
        limits = self.config.limits
        program, loader = seccomp.for_worker(bubblewrap=self.isolation == confine.BUBBLEWRAP)
        command = confine.wrap_command(self.isolation, command, workdir=self._workdir, seccomp_fd=program,
                                       hidden=list(self.config.hidden_paths), limits=limits)
        self._cgroup = WorkerCgroup.create(max_processes=limits.processes, memory_bytes=limits.memory_bytes,
                                           cpus=limits.cpus)
        self.used_cgroup = self.used_cgroup or self._cgroup is not None
        try:
            self._process = subprocess.Popen(
                command, pass_fds=(*self._channel.worker_fds, *([program] if program is not None else [])),
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                env=confine.worker_environment(self._workdir, limits.threads), cwd=self._workdir / "scratch",
                start_new_session=True, preexec_fn=confine.child_setup(limits, self._cgroup, filter_syscalls=loader),
            )
        finally:
            if program is not None:
                os.close(program)
        self._channel.started()
        self.starts += 1
        self._output.drain(self._process.stdout)
        self._load(self._workdir / "submission")
        self._share_open_blocks(blocks)

    def _load(self, submission_dir: Path) -> None:
        units = [[unit.filename, unit.origin] for unit in self.prepared.units]
        self._request_id += 1
        config = {"submission_dir": str(submission_dir), "scratch_dir": str(self._workdir / "scratch"),
                  "units": units, "seed": self.seed, "id": self._request_id, "filtered": True,
                  "unprivileged": self.isolation == confine.BUBBLEWRAP}
        started = time.perf_counter()
        self._loading_at = None
        try:
            hello = self._exchange(config, self.config.load_timeout_s, on_loading=self._note_loading)
        except failures.SandboxFailure as exc:
            self.load_failure = failures.LoadFailed(failures.Request("load"), cause=exc, loading_at=self._loading_at)
            raise self.load_failure from None
        self.load_seconds += time.perf_counter() - started
        if self._cgroup is not None:  # what the submission started while loading ends now, before any check
            keep = worker_chain(self._cgroup.pids(), hello.get("pid"), top=self._process.pid)
            self._cgroup.kill_all(spare=keep)
            self._baseline_processes = len(keep)
        problems = hello.get("problems")
        problems = problems[:100] if isinstance(problems, list) else []
        self.worker_problems = [{key: failures.cut(value) if isinstance(value, str) else value
                                 for key, value in problem.items()} for problem in problems if isinstance(problem, dict)]
        names = hello.get("names")
        self.names = [n for n in names if isinstance(n, str)] if isinstance(names, list) else []

    def _note_loading(self, where) -> None:
        if isinstance(where, dict) and isinstance(where.get("filename"), str) and type(where.get("line")) is int:
            self._loading_at = (where["filename"], where["line"])

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

    def _crashed(self, request: failures.Request) -> failures.Crashed:
        code = exit_code_soon(self._process)
        if self.isolation == confine.BUBBLEWRAP:
            code = signal_of_wrapped(code)
        out_of_memory = self._cgroup is not None and self._cgroup.out_of_memory_kills() > 0
        self._kill()
        return failures.Crashed(request, exit_code=code, out_of_memory=out_of_memory,
                       memory_cap_bytes=self.config.limits.memory_bytes, output_tail=self.output_tail(600).strip())

    # -- names ------------------------------------------------------------------------------

    def _check_name(self, name: str) -> None:
        """A request after a failed load fails the same way, without a new worker."""
        if self.load_failure is not None:
            raise self.load_failure
