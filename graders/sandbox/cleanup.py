"""No worker, cgroup or sandbox folder outlives its grading, also when the grading is stopped by a signal.

A grading stopped with SIGTERM (a batch's time limit, `kill`, a CI runner) or SIGINT (Ctrl-C) closes
every sandbox it has open before it ends: the worker and whatever it started are killed, the cgroup
and the folder deleted. The handlers are installed by the first sandbox made in the main thread,
and pass the signal on to whatever handled it before (SIGINT's KeyboardInterrupt, the default end).
A grading killed with SIGKILL cannot clean up: the next grading on the machine removes what it left
(cgroup.remove_orphans, workdir.remove_orphans).
"""

from __future__ import annotations

import os
import signal
import threading
import weakref

_OPEN: "weakref.WeakSet" = weakref.WeakSet()
_PREVIOUS: dict[int, object] = {}
HANDLED = (signal.SIGTERM, signal.SIGINT)


def track(sandbox) -> None:
    """Close `sandbox` if this process is stopped by SIGTERM or SIGINT."""
    _OPEN.add(sandbox)
    if threading.current_thread() is threading.main_thread():
        for number in HANDLED:
            if number not in _PREVIOUS:
                _PREVIOUS[number] = signal.signal(number, _close_all_then_pass_on)


def close_all() -> None:
    """Close every open sandbox of this process (errors ignored: this is the way out)."""
    for sandbox in list(_OPEN):
        try:
            sandbox.close()
        except Exception:  # noqa: BLE001 - close the others regardless
            pass


def _close_all_then_pass_on(number, frame) -> None:
    close_all()
    previous = _PREVIOUS.get(number)
    if callable(previous):
        previous(number, frame)
        return
    if previous == signal.SIG_IGN:
        return
    signal.signal(number, signal.SIG_DFL)
    os.kill(os.getpid(), number)
