"""The worker's seccomp filter (graders/sandbox/seccomp.py): built by libseccomp, at least Docker's default
denials, in place before the worker runs at both isolation levels, and the worker refuses to run without it."""

import errno
import os
import subprocess
import sys

import pytest

from graders.inside import wire
from graders.sandbox import seccomp
from graders.sandbox.sandbox import INSIDE_DIR
from tests.sandbox.workers import LEVELS, make_sandbox

# Docker's default profile denies these (moby/profiles/seccomp/default.json), among others.
DOCKER = {"keyctl", "add_key", "request_key", "ptrace", "mount", "umount2", "bpf", "perf_event_open", "userfaultfd",
          "unshare", "setns", "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
          "pivot_root", "swapon", "swapoff", "reboot", "process_vm_readv", "process_vm_writev", "open_by_handle_at",
          "acct", "settimeofday", "clock_settime"}

PROBE = """
import ctypes, errno, os

libc = ctypes.CDLL(None, use_errno=True)
CALLS = {"keyctl": (250, 0, 0), "add_key": (248, 0, 0), "request_key": (249, 0, 0), "ptrace": (101, 16, 1),
         "mount": (165, 0, 0), "umount2": (166, 0, 0), "bpf": (321, 0, 0), "perf_event_open": (298, 0, 0),
         "userfaultfd": (323, 0, 0), "unshare": (272, 0x10000000, 0), "setns": (308, 0, 0),
         "kexec_load": (246, 0, 0), "init_module": (175, 0, 0), "pivot_root": (155, 0, 0), "swapon": (167, 0, 0),
         "reboot": (169, 0, 0), "shmget": (29, 0, 4096), "msgget": (68, 0, 0), "clone_newuser": (56, 0x10000000, 0)}

def denied():
    result = {}
    for name, (number, *args) in CALLS.items():
        ctypes.set_errno(0)
        returned = libc.syscall(number, *args, 0, 0, 0)
        result[name] = errno.errorcode.get(ctypes.get_errno(), "ok") if returned == -1 else "ok"
    status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
    result["Seccomp"] = status["Seccomp"].strip()
    result["pid"] = os.fork()  # an ordinary fork still works (clone without namespace flags)
    if result["pid"] == 0:
        __import__("posix")._exit(0)
    os.waitpid(result["pid"], 0)
    return result
"""


def test_the_filter_denies_at_least_what_docker_denies():
    assert DOCKER <= set(seccomp.DENIED)
    assert seccomp.program() and len(seccomp.program()) % 8 == 0  # struct sock_filter: 8 bytes each


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::graders.sandbox.sandbox.UnconfinedRootWarning")
@pytest.mark.parametrize("level", LEVELS)
def test_the_worker_runs_under_the_filter_at_every_level(tmp_path, level):
    source = PROBE.replace("os.fork()", "__import__('posix').fork()")  # underneath the worker's guard
    with make_sandbox(tmp_path, source, level=level) as box:
        seen = box.call("denied")
    assert seen.pop("Seccomp") == "2"
    assert seen.pop("pid") > 0
    assert set(seen.values()) == {"EPERM"}, seen


@pytest.mark.slow
def test_the_worker_refuses_student_code_without_the_filter(tmp_path):
    (tmp_path / "hw3.py").write_text("open('ran', 'w').close()\n")
    requests_read, requests_write = os.pipe()
    results_read, results_write = os.pipe()
    worker = subprocess.Popen([sys.executable, "-I", str(INSIDE_DIR / "worker.py"), "--requests", str(requests_read),
                               "--results", str(results_write)], pass_fds=(requests_read, results_write),
                              cwd=tmp_path, stderr=subprocess.PIPE)
    os.close(requests_read)
    os.close(results_write)
    wire.write_frame(requests_write, {"submission_dir": str(tmp_path), "scratch_dir": str(tmp_path), "seed": 1,
                                      "units": [["hw3.py", "hw3.py"]], "id": 1, "filtered": True})
    assert worker.wait(timeout=60) == 70
    assert b"without its seccomp filter" in worker.stderr.read() and not (tmp_path / "ran").exists()
    os.close(requests_write)
    os.close(results_read)


def test_the_loader_applies_the_program_to_a_child_before_it_runs():
    child = subprocess.run([sys.executable, "-c", "import ctypes; libc = ctypes.CDLL(None, use_errno=True); "
                            "print(libc.syscall(250, 0, 0, 0, 0), ctypes.get_errno())"],
                           preexec_fn=seccomp.Loader(), capture_output=True, text=True)
    assert child.stdout.split() == ["-1", str(errno.EPERM)]
