"""Start one worker: a child of the worker slot lent to this grading (a batch's), else a new process.

Either way the worker gets a fresh folder with the submission, the pipes of a fresh `Channel`, its
cgroup and limits, and the same confinement (sandbox/isolation.py, graders/inside/zygote.py); a slot
only saves the worker's imports. A slot that cannot start one (its zygote gone, refused, too slow)
is not asked again by this grading: it starts a new bubblewrap worker instead, never a weaker one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from graders.sandbox import isolation as confine
from graders.sandbox import seccomp, slots, workdir
from graders.sandbox.channel import Channel
from graders.sandbox.workdir import INSIDE_DIR


@dataclass
class Launched:
    """A started worker: its folder here and as it sees it, its pipes and its process."""

    workdir: Path
    seen_at: Path  # the same folder as the worker sees it (a slot's workers all see theirs at the slot's path)
    channel: Channel
    process: subprocess.Popen | slots.SlotWorker


def launch(units, *, isolation: str, limits: confine.Limits, hidden: list[Path], cgroup,
           timeout_s: float) -> Launched:
    """Start a worker for the submission's `units`, in `cgroup` (None: none) and under `limits`.

    Args:
        timeout_s: how long a slot's zygote may take to fork and confine it (it may still be importing).
    """
    slot = slots.assigned()
    if slots.fits(slot, limits, isolation, cgroup):
        try:
            return _in_slot(slot, units, limits=limits, cgroup=cgroup, timeout_s=timeout_s)
        except (slots.SlotUnavailable, OSError) as exc:  # OSError: the slot's inbox is gone with its batch
            print(f"hw3grader: the worker slot could not start a worker ({exc}); starting fresh workers instead",
                  file=sys.stderr, flush=True)
            slots.assign(None)
            cgroup.kill_all()  # whatever of the attempt got there
    return _fresh(units, isolation=isolation, limits=limits, hidden=hidden, cgroup=cgroup)


def end(process) -> None:
    """SIGKILL a worker with every process of its process group (a slot's: its init, whose namespace ends)."""
    if isinstance(process, slots.SlotWorker):
        process.kill()
        return
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _in_slot(slot: slots.Slot, units, *, limits: confine.Limits, cgroup, timeout_s: float) -> Launched:
    folder = workdir.create(units, INSIDE_DIR, parent=Path(slot.inbox))
    channel = Channel()
    try:
        process = slots.start_worker(slot, folder=folder, fds=channel.worker_fds, cgroup=cgroup, limits=limits,
                                     timeout_s=timeout_s)
    except BaseException:
        channel.close()
        workdir.remove(folder)
        raise
    channel.started()
    return Launched(folder, Path(slot.work), channel, process)


def _fresh(units, *, isolation: str, limits: confine.Limits, hidden: list[Path], cgroup) -> Launched:
    folder = workdir.create(units, INSIDE_DIR)
    channel = Channel()
    try:
        process = _popen(folder, channel, isolation=isolation, limits=limits, hidden=hidden, cgroup=cgroup)
    except BaseException:
        channel.close()
        workdir.remove(folder)
        raise
    channel.started()
    return Launched(folder, folder, channel, process)


def _popen(folder: Path, channel: Channel, *, isolation: str, limits: confine.Limits, hidden: list[Path],
           cgroup) -> subprocess.Popen:
    requests_read, results_write = channel.worker_fds
    worker = str(folder / "_harness" / "worker.py")
    command = [sys.executable, "-I", worker, "--requests", str(requests_read), "--results", str(results_write)]
    program, loader = seccomp.for_worker(bubblewrap=isolation == confine.BUBBLEWRAP)
    command = confine.wrap_command(isolation, command, workdir=folder, seccomp_fd=program, hidden=hidden,
                                   limits=limits)
    try:
        return subprocess.Popen(
            command, pass_fds=(*channel.worker_fds, *([program] if program is not None else [])),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            env=confine.worker_environment(folder, limits.threads), cwd=folder / "scratch",
            start_new_session=True, preexec_fn=confine.child_setup(limits, cgroup, filter_syscalls=loader),
        )
    finally:
        if program is not None:
            os.close(program)
