"""A worker slot's zygote: TensorFlow imported once, a fresh and confined worker forked for each student.

Started by a batch (graders/sandbox/slots.py) as `python -I zygote.py --listen FD --seccomp FD --inbox
PATH` under bubblewrap run by root, in the read-only view a worker gets (the same allowlist and masks),
plus the slot's inbox (where the grader writes each student's folder), but without the final drop to an
unprivileged user: it keeps root and its capabilities inside bubblewrap's namespaces, because it makes
each worker's. It imports numpy, TensorFlow, keras, keras_tuner and the worker's own modules, and
nothing else: it never reads a submission, never runs student code, and reads nothing a worker wrote.
For each request of a grading process (a Unix socket only root can reach) it forks:

  zygote            root, every capability, bubblewrap's namespaces; waits for requests
  └─ init           PID 1 of a new PID namespace, in new mount, IPC, network, UTS and cgroup namespaces.
     │              Waits until the grader has moved it into the worker's cgroup; then mounts fresh
     │              size-capped tmpfs on every writable place, a fresh /proc and /dev/pts, the student's
     │              folder read-only at the slot's work path (this zygote's own folder), hides the inbox;
     │              keeps uid 0 but drops every capability (as bubblewrap's init is root) and reaps
     └─ worker      PID 2, the unprivileged uid, no capability, no_new_privs, the rlimits and the seccomp
                    filter, then worker.main() as a bubblewrap worker runs it.

The init reports to the grader over its own socket: "ready" (the kernel attaches its pid as the grader
sees it), then the worker's "confined", then "exit N" (bubblewrap's convention: N, or 128 + signal);
when the grader hangs up, or the zygote dies, the init exits and the kernel kills every process left
in its namespace.
"""

from __future__ import annotations

import array
import importlib
import json
import os
import select
import signal
import socket
import sys
import time
import traceback

HARNESS = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HARNESS)  # `python -I` leaves the script's folder out

import confine  # noqa: E402
import worker  # noqa: E402  (numpy and the wire format)

WORK = os.path.dirname(HARNESS)  # the zygote's folder: each student's folder is bound here, read-only
PRELOADED = ("tensorflow", "keras", "keras_tuner", "probes.keras_facts", "probes.q1", "probes.q1_search",
             "probes.q3", "probes.q7")
FDS_PER_REQUEST = 4  # the init's socket, the worker's requests and results pipes, its output
INTERNAL_ERROR = 70


def main() -> None:
    args = _arguments()
    with os.fdopen(args.seccomp, "rb") as source:
        program = source.read()
    started = time.perf_counter()
    for name in PRELOADED:
        importlib.import_module(name)
    _settle_threads()
    print(f"zygote ready: {time.perf_counter() - started:.1f} s of imports", file=sys.stderr, flush=True)
    listener = socket.socket(fileno=args.listen)
    _serve(listener, program, args.inbox)


def _arguments():
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--listen", type=int, required=True)
    parser.add_argument("--seccomp", type=int, required=True)
    parser.add_argument("--inbox", required=True)
    return parser.parse_args()


def _settle_threads() -> None:
    """Fork from one thread only: a throwaway fork lets OpenBLAS stop the thread pools it started at
    import (its own fork handler does), then this process must have exactly one thread left."""
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    threads = len(os.listdir("/proc/self/task"))
    if threads != 1:
        raise RuntimeError(f"the zygote has {threads} threads after its imports; it forks only from one")


def _serve(listener: socket.socket, program: bytes, inbox: str) -> None:
    children: dict[int, int] = {}  # pidfd -> pid of each init not yet reaped
    while True:
        ready, _, _ = select.select([listener, *children], [], [])
        for fd in ready:
            if fd is listener:
                _answer(listener, program, inbox, children)
            else:
                _reap(fd, children)


def _reap(pidfd: int, children: dict[int, int]) -> None:
    """An init ended: reap it, so that nothing of it is left in the zygote."""
    pid = children.pop(pidfd)
    os.close(pidfd)
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def _answer(listener: socket.socket, program: bytes, inbox: str, children: dict[int, int]) -> None:
    connection, _ = listener.accept()
    fds: list[int] = []
    with connection:
        connection.settimeout(30)
        try:
            request = _read_request(connection, inbox, fds)
            pid = _start(request, fds, program, inbox)
            children[os.pidfd_open(pid)] = pid
            reply = {"ok": True}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        finally:
            for fd in fds:
                os.close(fd)
        try:
            connection.send(json.dumps(reply).encode())
        except OSError:
            pass


def _read_request(connection: socket.socket, inbox: str, fds: list[int]) -> dict:
    """One request of root (the grader): its checked fields; its descriptors are added to `fds`."""
    uid = int.from_bytes(connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)[4:8], sys.byteorder)
    received = array.array("i")
    message, ancillary, _, _ = connection.recvmsg(1 << 16, socket.CMSG_SPACE(FDS_PER_REQUEST * received.itemsize))
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            received.frombytes(data[:len(data) - len(data) % received.itemsize])
    fds += received
    if uid != os.getuid():
        raise ValueError(f"a request from uid {uid}")
    if len(fds) != FDS_PER_REQUEST:
        raise ValueError(f"a request with {len(fds)} descriptors")
    request = json.loads(message)
    folder = request["folder"]
    if not isinstance(folder, str) or folder in ("", ".", "..") or "/" in folder:
        raise ValueError(f"not a folder of the inbox: {folder!r}")
    if not os.path.isdir(os.path.join(inbox, folder)) or os.path.islink(os.path.join(inbox, folder)):
        raise ValueError(f"no folder {folder!r} in the inbox")
    limits = request["limits"]
    if not all(type(limits[key]) is int for key in ("cpu_seconds", "address_space", "file_bytes", "open_files")):
        raise ValueError("limits must be integers")
    if type(request["uid"]) is not int or request["uid"] <= 0 or type(request["scratch_bytes"]) is not int:
        raise ValueError("the uid and scratch size must be positive integers")
    if not all(isinstance(path, str) and path.startswith("/") for path in request["system_writable"]):
        raise ValueError("the writable places outside the folder must be absolute paths")
    if not all(isinstance(name, str) and name and "/" not in name and name not in (".", "..")
               for name in request["writable"]):
        raise ValueError("the writable places of the folder must be its folders' names")
    return request


def _start(request: dict, fds: list[int], program: bytes, inbox: str) -> int:
    """Fork the init of a new PID namespace; the zygote's own next child is back in the zygote's namespace."""
    sys.stdout.flush()
    sys.stderr.flush()
    own = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
    try:
        confine.unshare(confine.CLONE_NEWPID)  # only the next child enters it, as its PID 1
        pid = -1
        try:
            pid = os.fork()
        finally:
            if pid != 0:
                confine.setns(own, confine.CLONE_NEWPID)
        if pid == 0:
            _init(request, fds, program, inbox)  # never returns
    finally:
        os.close(own)
    return pid


def _init(request: dict, fds: list[int], program: bytes, inbox: str) -> None:
    control, requests, results, output = fds
    try:
        os.dup2(output, 1)
        os.dup2(output, 2)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        confine.close_all_but({0, 1, 2, control, requests, results})  # nothing of the zygote's
        confine.prctl(confine.PR_SET_PDEATHSIG, signal.SIGKILL)  # gone with the zygote
        os.setsid()
        link = socket.socket(fileno=control)
        link.send(b"ready")  # the grader reads this process's pid off it, moves it into the cgroup
        if link.recv(16) != b"go":
            os._exit(0)
        confine.unshare(confine.WORKER_NAMESPACES)
        confine.loopback_up()
        _mount_view(request, inbox)
        pid = os.fork()
        if pid == 0:
            _worker(request, link, requests, results, program)  # never returns
        os.close(requests)
        os.close(results)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(null, 2)
        confine.drop_capabilities()
        _wait_for(pid, link)
    except BaseException:  # noqa: BLE001 - say why, then end distinctly
        traceback.print_exc()
        sys.stderr.flush()
    os._exit(INTERNAL_ERROR)


def _mount_view(request: dict, inbox: str) -> None:
    """Fresh writable places, /proc and /dev/pts; the student's folder at WORK, read-only; the inbox hidden.

    The zygote's own folder and the inbox may lie under a writable place (/tmp): that place's fresh
    tmpfs hides them, so the student's folder is held open first, and WORK made again under it.
    """
    confine.mount(None, "/", None, confine.MS_REC | confine.MS_PRIVATE)  # nothing propagates back
    folder = os.open(os.path.join(inbox, request["folder"]), os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW)
    for path in request["system_writable"]:
        confine.fresh_tmpfs(path, request["scratch_bytes"])
    os.umask(0o022)
    os.makedirs(WORK, mode=0o755, exist_ok=True)  # its parents 0755, as bubblewrap makes them
    confine.read_only_bind(f"/proc/self/fd/{folder}", WORK)
    os.close(folder)
    for name in request["writable"]:
        confine.fresh_tmpfs(os.path.join(WORK, name), request["scratch_bytes"])
    if os.path.isdir(inbox):
        confine.empty_folder(inbox)
    confine.fresh_pseudo_terminals()
    confine.fresh_proc()


def _worker(request: dict, link: socket.socket, requests: int, results: int, program: bytes) -> None:
    """Confine this process as setpriv and bubblewrap do, then serve the grader as worker.py does."""
    try:
        os.chdir(os.path.join(WORK, "scratch"))  # in its init's session, as bubblewrap's worker is in its init's
        confine.apply_rlimits(request["limits"])
        confine.become(request["uid"])
        confine.load_filter(program)
        link.send(b"confined")
        link.close()
        if "tempfile" in sys.modules:
            sys.modules["tempfile"].tempdir = None  # found again from TMPDIR, in this worker's folder
        sys.argv = [os.path.join(HARNESS, "worker.py"), "--requests", str(requests), "--results", str(results)]
        worker.main()
    except BaseException:  # noqa: BLE001 - worker.main handles its own; this is the confinement failing
        traceback.print_exc()
        sys.stderr.flush()
        os._exit(INTERNAL_ERROR)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _wait_for(pid: int, link: socket.socket) -> None:
    """Reap every process of the namespace until the worker ends (report its status), or the grader hangs up."""
    pidfd = os.pidfd_open(pid)
    while True:
        ready, _, _ = select.select([link, pidfd], [], [], 1.0)
        status = _reap_all(pid)
        if status is not None:
            try:
                link.send(b"exit %d" % status)
            except OSError:
                pass
            os._exit(status)
        if link in ready:  # the grader closed its end (or died): end everything here
            os._exit(0)


def _reap_all(worker_pid: int) -> int | None:
    """Reap every ended process (orphans come to PID 1); the worker's status as bubblewrap reports one."""
    status = None
    while True:
        try:
            pid, code = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return status
        if pid == 0:
            return status
        if pid == worker_pid:
            code = os.waitstatus_to_exitcode(code)
            status = code if code >= 0 else 128 - code


if __name__ == "__main__":
    main()
