"""The system calls a worker slot's zygote (zygote.py) confines each new worker with, through libc.

Python 3.11 has no `os.unshare`, `setns`, `mount`, `capset` or seccomp loading: this module calls
them through ctypes, each checked (an OSError names the call). It imports nothing of the grader:
it is copied into the sandbox beside worker.py. Used only by a zygote, which runs as root inside
bubblewrap's namespaces; every function here is called before any byte of a submission is read.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import resource
import socket
import struct

CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS = 0x00020000, 0x02000000, 0x04000000
CLONE_NEWIPC, CLONE_NEWPID, CLONE_NEWNET = 0x08000000, 0x20000000, 0x40000000
# Everything but the PID namespace, which only the zygote's next fork can enter.
WORKER_NAMESPACES = CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWCGROUP
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP = 1, 4, 24, 38, 22
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, SECCOMP_MODE_FILTER = 47, 4, 2
_CAP_VERSION_3 = 0x20080522
_SIOCSIFFLAGS, _IFF_UP, _IFF_LOOPBACK, _IFF_RUNNING = 0x8914, 0x1, 0x8, 0x40
PROC_READ_ONLY = ("sys", "sysrq-trigger", "irq", "bus")  # as bubblewrap's --proc leaves them

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]


def _checked(result: int, call: str) -> None:
    if result != 0:
        number = ctypes.get_errno()
        raise OSError(number, f"{call}: {os.strerror(number)}")


def unshare(flags: int) -> None:
    _checked(_libc.unshare(flags), f"unshare({flags:#x})")


def setns(fd: int, flags: int) -> None:
    _checked(_libc.setns(fd, flags), f"setns({flags:#x})")


def prctl(option: int, arg: int = 0) -> None:
    _checked(_libc.prctl(option, arg, 0, 0, 0), f"prctl({option}, {arg})")


def mount(source: str | None, target: str, kind: str | None, flags: int, data: str | None = None) -> None:
    encoded = [None if value is None else value.encode() for value in (source, target, kind, data)]
    _checked(_libc.mount(encoded[0], encoded[1], encoded[2], flags, encoded[3]), f"mount({target})")


def fresh_tmpfs(path: str, size_bytes: int, mode: str = "1777") -> None:
    """A new, empty, size-capped tmpfs at `path` (as bubblewrap's `--perms 1777 --size N --tmpfs`)."""
    mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, f"mode={mode},size={size_bytes}")


def read_only_bind(source: str, target: str, extra: int = 0) -> None:
    """Bind `source` at `target`, read-only, without set-uid files or devices (as bubblewrap's --ro-bind)."""
    mount(source, target, None, MS_BIND | MS_REC)
    mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | extra)


def empty_folder(path: str) -> None:
    """An empty, read-only tmpfs over `path`: what was under it is hidden."""
    fresh_tmpfs(path, 4096, mode="0755")
    mount(None, path, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def fresh_proc() -> None:
    """A /proc of the calling process's PID namespace, its kernel knobs read-only (as bubblewrap's --proc)."""
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    for name in PROC_READ_ONLY:
        path = f"/proc/{name}"
        if os.path.exists(path):
            read_only_bind(path, path, MS_NOEXEC)


def fresh_pseudo_terminals() -> None:
    """A devpts instance of its own: no terminal of another worker can be seen or opened."""
    mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620")


def loopback_up() -> None:
    """Bring up the loopback device of a new network namespace, as bubblewrap does (127.0.0.1, nothing else)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH22x", b"lo", _IFF_UP | _IFF_LOOPBACK | _IFF_RUNNING)
        fcntl.ioctl(sock.fileno(), _SIOCSIFFLAGS, request)


def close_all_but(keep: set[int]) -> None:
    """Close every descriptor of this process that is not in `keep`."""
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass  # the descriptor of the listing itself, already closed


def apply_rlimits(limits: dict) -> None:
    """The worker's rlimits (sandbox/isolation.py child_setup): CPU time, address space, file size, files."""
    resource.setrlimit(resource.RLIMIT_CPU, (limits["cpu_seconds"], limits["cpu_seconds"] + 5))
    resource.setrlimit(resource.RLIMIT_AS, (limits["address_space"], limits["address_space"]))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["file_bytes"], limits["file_bytes"]))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits["open_files"], limits["open_files"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _set_capabilities(keep_effective: bool) -> None:
    """Clear the inheritable set (and, unless `keep_effective`, the effective and permitted sets)."""
    header, data = _CapHeader(_CAP_VERSION_3, 0), (_CapData * 2)()
    _checked(_libc.capget(ctypes.byref(header), data), "capget")
    for half in data:
        half.inheritable = 0
        if not keep_effective:
            half.effective = half.permitted = 0
    _checked(_libc.capset(ctypes.byref(header), data), "capset")


def drop_bounding_set() -> None:
    """No capability can ever be gained again, not even by a set-uid program (as setpriv --bounding-set=-all)."""
    with open("/proc/sys/kernel/cap_last_cap", encoding="ascii") as last:
        for capability in range(int(last.read()) + 1):
            prctl(PR_CAPBSET_DROP, capability)


def drop_capabilities() -> None:
    """Keep the user (root) but hold no capability at all: what a worker's init process keeps."""
    drop_bounding_set()
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    _set_capabilities(keep_effective=False)


def become(uid: int) -> None:
    """Become `uid` (user and group, no supplementary group) holding no capability, as setpriv
    --reuid --regid --clear-groups --inh-caps=-all --bounding-set=-all does: a root process that sets
    every uid to a non-zero one loses its permitted and effective capabilities."""
    drop_bounding_set()
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    _set_capabilities(keep_effective=True)  # setgroups and the uid change below still need them
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    # The uid change made the process undumpable (its /proc files root's); setpriv's exec makes it dumpable
    # again: so does this, so that the worker reads its own /proc as a bubblewrap worker does.
    prctl(PR_SET_DUMPABLE, 1)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def load_filter(program: bytes) -> None:
    """no_new_privs, then the seccomp filter `program` (libseccomp's BPF export, sandbox/seccomp.py)."""
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.addressof(buffer))
    _checked(_libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(fprog), 0, 0), "seccomp")


def status_fields() -> dict[str, str]:
    """/proc/self/status as {field: value}."""
    with open("/proc/self/status", encoding="ascii") as status:
        return {key: value.strip() for key, _, value in (line.partition(":") for line in status)}
