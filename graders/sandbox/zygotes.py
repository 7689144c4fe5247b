"""Worker slots, the batch's side: one zygote per slot, lent to one grading at a time, gone with the batch.

A slot's zygote (graders/inside/zygote.py) is started under bubblewrap as a worker is (the same
read-only allowlist, masks and namespaces; sandbox/isolation.py `wrap_zygote`) but stays root with its
capabilities inside them, since it makes each worker's namespaces; it sees the slot's inbox besides,
and it runs in the slot's own cgroup. Its folder on the host (a sandbox folder, `hw3sandbox-<pid>-slot-*`,
0700) holds its socket, the inbox and its own workdir. Closing the pool (the batch's end, SIGTERM or
SIGINT through sandbox/cleanup.py) kills every process of each slot's cgroup; a worker's init dies with
its zygote (its parent-death signal), and every worker process with its init. A batch killed outright
leaves folders and cgroups that the next grading removes (workdir.remove_orphans, cgroup.remove_orphans).
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from graders.core.errors import HarnessError
from graders.sandbox import cleanup, seccomp, workdir
from graders.sandbox import isolation as confine
from graders.sandbox.cgroup import WorkerCgroup
from graders.sandbox.output import OutputTail
from graders.sandbox.slots import Slot, short_path
from graders.sandbox.workdir import INSIDE_DIR


class Zygote:
    """One slot: its zygote process, cgroup and folder."""

    def __init__(self, *, limits: confine.Limits, hidden: list[Path]) -> None:
        self.root = Path(tempfile.mkdtemp(prefix=f"{workdir.PREFIX}{os.getpid()}-slot-"))
        self.process: subprocess.Popen | None = None
        self.output = OutputTail()
        self.cgroup = WorkerCgroup.create(max_processes=limits.processes, memory_bytes=limits.memory_bytes,
                                          cpus=limits.cpus)
        try:
            self.slot = self._start(limits, hidden)
        except BaseException:
            self.close()
            raise

    def _start(self, limits: confine.Limits, hidden: list[Path]) -> Slot:
        if self.cgroup is None:
            raise HarnessError("a worker slot needs a cgroup, and none can be made here")
        inbox = self.root / "inbox"
        inbox.mkdir(mode=0o700)
        work = workdir.create([], INSIDE_DIR, parent=self.root)
        path = self.root / "zygote.sock"
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        program = seccomp.program_fd()
        try:
            with short_path(str(path)) as short:
                listener.bind(short)
            listener.listen(16)
            command = [sys.executable, "-I", str(work / "_harness" / "zygote.py"), "--listen", str(listener.fileno()),
                       "--seccomp", str(program), "--inbox", str(inbox)]
            self.process = subprocess.Popen(
                confine.wrap_zygote(command, workdir=work, inbox=inbox, hidden=hidden, limits=limits),
                pass_fds=(listener.fileno(), program), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, env=confine.worker_environment(work, limits.threads),
                cwd=work / "scratch", start_new_session=True, preexec_fn=confine.child_setup(limits, self.cgroup))
        finally:
            listener.close()  # the zygote's alone now: once it is gone, a grading's request is refused at once
            os.close(program)
        self.output.drain(self.process.stdout)
        return Slot(socket=str(path), inbox=str(inbox), work=str(work), threads=limits.threads)

    def close(self) -> None:
        """Kill the zygote and everything in its cgroup; delete its folder."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
        if self.cgroup is not None:
            self.cgroup.remove()
            self.cgroup = None
        if self.process is not None:
            self.process.wait()
            self.process = None
        workdir.remove(self.root)


class SlotPool:
    """A batch's worker slots: `count` zygotes, each lent to one grading at a time (`lend`)."""

    def __init__(self, count: int, *, limits: confine.Limits, hidden: list[Path]) -> None:
        self.zygotes: list[Zygote] = []
        self._free: queue.Queue = queue.Queue()
        cleanup.track(self)  # SIGTERM or SIGINT: the zygotes go, with every worker they made
        try:
            for _ in range(count):
                self.zygotes.append(Zygote(limits=limits, hidden=hidden))
                self._free.put(self.zygotes[-1].slot)
        except BaseException:
            self.close()
            raise

    @contextlib.contextmanager
    def lend(self):
        """A free slot for one grading, back in the pool when it ends (at most `count` gradings at once)."""
        slot = self._free.get()
        try:
            yield slot
        finally:
            self._free.put(slot)

    def close(self) -> None:
        for zygote in self.zygotes:
            zygote.close()
        self.zygotes = []

    def __enter__(self) -> "SlotPool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_pool(count: int, *, limits: confine.Limits, isolation: str, hidden: list[Path]) -> SlotPool | None:
    """`count` worker slots, or None where they cannot run (not root, no bubblewrap, no cgroup): the
    batch's gradings then start a fresh bubblewrap worker (or plain process) per student."""
    if not confine.running_as_root() or isolation == confine.PROCESS or not confine.bubblewrap_works(limits.uid):
        return None
    try:
        return SlotPool(count, limits=limits, hidden=hidden)
    except (HarnessError, OSError, seccomp.SeccompUnavailable):
        return None
