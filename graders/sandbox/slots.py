"""Worker slots, the grading's side: ask the slot's zygote for a fresh, confined worker for one student.

In a batch, each worker slot keeps a zygote (graders/inside/zygote.py, started by sandbox/zygotes.py)
that imported TensorFlow once; a grading lent that slot (`assign`) gets each of its workers as a new
child of the zygote instead of a new bubblewrap process that imports TensorFlow again. The worker is
confined exactly as a bubblewrap worker (see zygote.py's tree); this side writes the student's folder
into the slot's inbox, hands the zygote the worker's pipes, moves the worker's init into the worker's
own cgroup before any student byte is read, and keeps a handle (`SlotWorker`) that reads like the
`subprocess.Popen` of a bubblewrap worker: its pid, exit status (bubblewrap's convention) and output.
Whatever goes wrong here raises `SlotUnavailable`, and the sandbox starts a fresh bubblewrap worker
instead: never a weaker one.
"""

from __future__ import annotations

import array
import contextlib
import json
import os
import select
import signal
import socket
import struct
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from graders.sandbox import isolation as confine

_CREDENTIALS = struct.Struct("3i")  # struct ucred: pid, uid, gid
_ASSIGNED: list = [None]


class SlotUnavailable(Exception):
    """The slot could not start a worker: the sandbox starts a fresh bubblewrap worker instead."""


@dataclass(frozen=True)
class Slot:
    """What a grading needs to ask a slot's zygote for workers (plain data: it crosses a fork server)."""

    socket: str  # the zygote's socket: a path in a folder that only root can open
    inbox: str  # where each student's folder is written (the zygote sees it at the same path)
    work: str  # where every worker of the slot sees its own folder (the zygote's own folder)
    threads: int  # the math threads the zygote imported its libraries with


def assign(slot: Slot | None) -> None:
    """Lend `slot` to this process's gradings (a batch's grading process, before it grades)."""
    _ASSIGNED[0] = slot


def assigned() -> Slot | None:
    return _ASSIGNED[0]


def fits(slot: Slot | None, limits: confine.Limits, isolation: str, cgroup) -> bool:
    """Whether `slot` can start this worker: bubblewrap run by root, a cgroup to move it into, the same threads."""
    return (slot is not None and isolation == confine.BUBBLEWRAP and cgroup is not None
            and confine.running_as_root() and slot.threads == limits.threads)


class SlotWorker:
    """A worker forked by a zygote, seen as a `subprocess.Popen`: `pid` is its init's (every process of the
    worker dies with it), `returncode` bubblewrap's (the worker's status, or 128 + its signal)."""

    def __init__(self, pid: int, pidfd: int, link: socket.socket, stdout) -> None:
        self.pid, self._pidfd, self._link, self.stdout = pid, pidfd, link, stdout
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self._read(0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            self._read(timeout)
        if self.returncode is None:
            raise subprocess.TimeoutExpired("slot worker", timeout)
        return self.returncode

    def kill(self) -> None:
        """SIGKILL the init (never another process that reuses its pid): its namespace ends with it."""
        if self._pidfd >= 0:
            with contextlib.suppress(ProcessLookupError, OSError):
                signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)

    def _read(self, timeout: float | None) -> None:
        ready, _, _ = select.select([self._link], [], [], timeout)
        if not ready:
            return
        try:
            message = self._link.recv(64)
        except OSError:
            message = b""
        words = message.split()
        # No status: the init was killed (by the grader, or with its cgroup) before it could say one.
        self.returncode = int(words[1]) if len(words) == 2 and words[0] == b"exit" else -signal.SIGKILL
        self._link.close()
        os.close(self._pidfd)
        self._pidfd = -1


def start_worker(slot: Slot, *, folder: Path, fds: tuple[int, int], cgroup, limits: confine.Limits,
                 timeout_s: float) -> SlotWorker:
    """Have the zygote fork a worker for the student's `folder` (in the slot's inbox), served over `fds`
    (the worker's ends of the request and result pipes).

    Raises:
        SlotUnavailable: the zygote is gone, refused, or the worker was not confined in `timeout_s`.
    """
    deadline = time.monotonic() + timeout_s
    link, init_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    link.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)  # the init's pid comes as this process sees it
    output_read, output_write = os.pipe()
    request = {"folder": folder.name, "uid": limits.uid, "scratch_bytes": limits.scratch_bytes,
               "writable": list(confine.WRITABLE), "system_writable": list(confine.WRITABLE_SYSTEM),
               "limits": {"cpu_seconds": limits.cpu_seconds, "file_bytes": limits.file_bytes,
                          "open_files": limits.open_files,
                          "address_space": confine.address_space_bytes(limits, cgroup=True)}}
    pid, pidfd = 0, -1
    try:
        _ask(slot, request, [init_end.fileno(), *fds, output_write], deadline)
        init_end.close()
        os.close(output_write)
        output_write = -1
        pid = _ready(link, deadline)
        pidfd = os.pidfd_open(pid)  # it waits for "go": alive, and no other process has its pid
        cgroup.place(pid)
        link.send(b"go")
        if _receive(link, deadline)[0] != b"confined":
            raise SlotUnavailable("the worker was not confined")
    except (OSError, ValueError, SlotUnavailable) as exc:
        said = _abandon(link, pidfd, output_read)
        raise SlotUnavailable(f"{exc}{': ' if said else ''}{said}") from None
    finally:
        init_end.close()
        if output_write >= 0:
            os.close(output_write)
    return SlotWorker(pid, pidfd, link, os.fdopen(output_read, "rb"))


def _ask(slot: Slot, request: dict, fds: list[int], deadline: float) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as connection:
        connection.settimeout(max(0.1, deadline - time.monotonic()))
        with short_path(slot.socket) as path:
            connection.connect(path)
        connection.sendmsg([json.dumps(request).encode()],
                           [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
        reply = json.loads(connection.recv(1 << 16) or b"{}")
    if reply.get("ok") is not True:
        raise SlotUnavailable(f"the slot's zygote refused: {reply.get('error', 'no answer')}")


def _ready(link: socket.socket, deadline: float) -> int:
    """The init's pid (in this process's PID namespace), from the credentials the kernel attached to "ready"."""
    message, ancillary = _receive(link, deadline, with_credentials=True)
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS and message == b"ready":
            pid, uid, _ = _CREDENTIALS.unpack(data[:_CREDENTIALS.size])
            if uid == 0 and pid > 0:
                return pid
    raise SlotUnavailable("the zygote's child did not say it was ready")


def _receive(link: socket.socket, deadline: float, *, with_credentials: bool = False) -> tuple[bytes, list]:
    remaining = deadline - time.monotonic()
    ready, _, _ = select.select([link], [], [], max(0.0, remaining))
    if not ready:
        raise SlotUnavailable("the slot's zygote did not answer in time")
    space = socket.CMSG_SPACE(_CREDENTIALS.size) if with_credentials else 0
    message, ancillary, _, _ = link.recvmsg(64, space)
    return message, ancillary


def _abandon(link: socket.socket, pidfd: int, output_read: int) -> str:
    """Undo a start that failed: the init (if any) is killed, every descriptor closed.

    Returns:
        The end of what the init and the worker printed (why they failed), if anything.
    """
    if pidfd >= 0:
        with contextlib.suppress(OSError):
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)
        os.close(pidfd)
    link.close()
    os.set_blocking(output_read, False)
    try:
        said = os.read(output_read, 1 << 16)
    except OSError:
        said = b""
    os.close(output_read)
    return said.decode("utf-8", "replace").strip()[-1500:]


@contextlib.contextmanager
def short_path(path: str):
    """`path` of a Unix socket as a short one: /proc/self/fd/N/NAME (socket paths are cut at 108 bytes)."""
    folder = os.open(os.path.dirname(path), os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        yield f"/proc/self/fd/{folder}/{os.path.basename(path)}"
    finally:
        os.close(folder)
