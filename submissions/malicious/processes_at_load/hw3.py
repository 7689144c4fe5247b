"""Hostile sample: at load it starts processes that would outlive the checks (a forked child, a setsid
daemon through subprocess, a busy loop), hoping to keep working (or waiting) while the grader goes on.
Every process the worker started at load ends before the first check: dense_params says which still live."""
import os
import signal
import subprocess
import sys
import time

MARK = "hw3-attack-processes-at-load"
STARTED = []

try:
    child = subprocess.Popen([sys.executable, "-c", f"import time\nwhile True: time.sleep(0.1)  # {MARK}"],
                             start_new_session=True)
    STARTED.append(child.pid)
except OSError:
    pass
try:
    daemon = subprocess.Popen(["/bin/sh", "-c", f"while :; do :; done # {MARK}"], start_new_session=True)
    STARTED.append(daemon.pid)
except OSError:
    pass


def _alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[1][0] != "Z"
    except OSError:
        return False


def dense_params(in_features, units):
    alive = [pid for pid in STARTED if _alive(pid)]
    if not STARTED:
        raise RuntimeError("started no process at load")
    if alive:
        raise RuntimeError(f"{len(alive)} of the {len(STARTED)} processes started at load still run")
    return in_features * units + units
