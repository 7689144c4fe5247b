"""The worker's seccomp filter: built by libseccomp (through `pyseccomp`), never written by hand.

It denies, with EPERM, at least what Docker's default profile denies (kernel keyrings, ptrace and
reading other processes' memory, mounts and new namespaces, BPF, perf events, userfaultfd, module
and kexec loading, swap, reboot, the clock, ...), and also every kernel object that two workers
could share outside a namespace: SysV IPC and POSIX message queues. `clone3` answers ENOSYS (its
flags are behind a pointer a filter cannot read), so the C library falls back to `clone`, whose
namespace flags are refused. A syscall of another architecture (32-bit entry points) kills the
process: libseccomp's default for a foreign architecture.

Where it is applied (sandbox/isolation.py): under bubblewrap by bwrap itself (`--seccomp FD`) as its
very last step before it runs the worker, so the filter is in place before the first instruction of
the worker's Python; as a plain process, by the grading side's fork just before it runs the worker
(`prctl`), the same program. Either way, no code of the worker, let alone of the student, runs
unfiltered, and the filter outlives every exec and is inherited by every child.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import tempfile

from graders.core.errors import HarnessError

# Docker's default profile (moby/profiles/seccomp/default.json): what it never allows, or allows only with
# a capability the worker does not have.
DOCKER_DENIED = (
    "acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "create_module", "delete_module", "finit_module",
    "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick", "get_kernel_syms", "get_mempolicy", "init_module",
    "io_uring_enter", "io_uring_register", "io_uring_setup", "ioperm", "iopl", "kcmp", "kexec_file_load", "kexec_load",
    "keyctl", "lookup_dcookie", "mbind", "mount", "mount_setattr", "move_mount", "move_pages", "name_to_handle_at",
    "nfsservctl", "open_by_handle_at", "open_tree", "perf_event_open", "pidfd_getfd", "pivot_root",
    "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace", "query_module", "quotactl",
    "quotactl_fd", "reboot", "request_key", "set_mempolicy", "setns", "settimeofday", "stime", "swapoff", "swapon",
    "_sysctl", "sysfs", "syslog", "umount", "umount2", "unshare", "uselib", "userfaultfd", "ustat", "vhangup",
    "vm86", "vm86old",
)
# Kernel objects of an IPC namespace: private under bubblewrap anyway, shared between plain processes.
IPC_OBJECTS = (
    "msgget", "msgsnd", "msgrcv", "msgctl", "semget", "semop", "semtimedop", "semctl", "shmget", "shmat", "shmdt",
    "shmctl", "mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_notify", "mq_getsetattr",
)
DENIED = DOCKER_DENIED + IPC_OBJECTS
# clone(2) flags that make a new namespace: refused like unshare(2).
NAMESPACE_FLAGS = {
    "CLONE_NEWNS": 0x00020000, "CLONE_NEWCGROUP": 0x02000000, "CLONE_NEWUTS": 0x04000000,
    "CLONE_NEWIPC": 0x08000000, "CLONE_NEWUSER": 0x10000000, "CLONE_NEWPID": 0x20000000,
    "CLONE_NEWNET": 0x40000000, "CLONE_NEWTIME": 0x00000080,
}
_PR_SET_NO_NEW_PRIVS, _PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 38, 22, 2


class SeccompUnavailable(RuntimeError):
    """libseccomp (the Debian package libseccomp2) or pyseccomp is missing: the sandbox cannot filter."""


@functools.lru_cache(maxsize=1)
def program() -> bytes:
    """The filter as a BPF program (an array of `struct sock_filter`), exported by libseccomp.

    Raises:
        SeccompUnavailable: pyseccomp or libseccomp cannot be loaded here.
    """
    try:
        import pyseccomp as seccomp
    except (ImportError, OSError) as exc:  # OSError: pyseccomp found no libseccomp.so.2
        raise SeccompUnavailable(f"the seccomp filter needs pyseccomp and libseccomp2: {exc}") from None
    rules = seccomp.SyscallFilter(seccomp.ALLOW)
    deny = seccomp.ERRNO(errno.EPERM)
    for name in DENIED:
        try:
            rules.add_rule(deny, name)
        except (ValueError, OSError):  # not a syscall on this architecture (vm86 on x86-64, say)
            continue
    for flag in NAMESPACE_FLAGS.values():
        rules.add_rule(deny, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
    rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    with tempfile.TemporaryFile() as exported:
        rules.export_bpf(exported)
        exported.seek(0)
        return exported.read()


def program_fd() -> int:
    """A file descriptor to read `program()` from once (bubblewrap's `--seccomp FD`); the caller closes it."""
    read, write = os.pipe()
    data = program()
    if len(data) > 60000:  # a pipe holds 64 KiB: written at once, before bubblewrap reads it
        raise SeccompUnavailable(f"the seccomp program is unexpectedly large ({len(data)} bytes)")
    os.write(write, data)
    os.close(write)
    return read


def for_worker(*, bubblewrap: bool) -> tuple[int | None, "Loader | None"]:
    """(a descriptor for bubblewrap's --seccomp, None) under bubblewrap; (None, a Loader) for a plain process.

    Raises:
        HarnessError: the filter cannot be built here (no libseccomp): no worker runs unfiltered.
    """
    try:
        return (program_fd(), None) if bubblewrap else (None, Loader())
    except SeccompUnavailable as exc:
        raise HarnessError(f"{exc} (apt-get install libseccomp2; pip install pyseccomp)") from None


class Loader:
    """Applies `program()` to the calling process: made before a fork, called in the child before it execs.

    Everything is allocated in the parent, so the child only makes two `prctl` calls.
    """

    def __init__(self) -> None:
        data = program()
        self._filters = ctypes.create_string_buffer(data, len(data))

        class SockFprog(ctypes.Structure):
            _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

        self._fprog = SockFprog(len(data) // 8, ctypes.addressof(self._filters))
        self._prctl = ctypes.CDLL(None, use_errno=True).prctl
        self._prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong]

    def __call__(self) -> None:
        """Raises OSError when the kernel refuses the filter (the child then never runs the worker)."""
        if self._prctl(_PR_SET_NO_NEW_PRIVS, 1, None, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
        if self._prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.addressof(self._fprog), 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP) failed")
