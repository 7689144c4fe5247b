"""Hostile sample: conv2d_params writes a reply frame of its own whose JSON header is nested
200,000 levels deep. The grader must refuse it from its bytes, before parsing or walking it."""
import os
import struct
import sys


def _forge(header, blob=b""):
    """Write a reply frame of our own to the grader's results pipe (its number is on our command line)."""
    frame = struct.pack(">Q", len(header)) + header + struct.pack(">Q", len(blob)) + blob
    fd = int(sys.argv[sys.argv.index("--results") + 1])
    view = memoryview(frame)
    while view:
        view = view[os.write(fd, view):]


def conv2d_params(kernel_size, in_channels, filters, use_bias=True):
    _forge(b"[" * 200_000 + b"]" * 200_000)
    return 0


def dense_params(in_features, units):
    return in_features * units + units


def simple_rnn_params(input_dim, units):
    return units * (input_dim + units) + units


def lstm_params(input_dim, units):
    return 4 * (units * (input_dim + units) + units)


def gru_params(input_dim, units, reset_after=True):
    return 3 * (units * (input_dim + units) + units) + (3 * units if reset_after else 0)

