"""Hostile sample: reply frames of its own whose JSON header is millions of empty lists.
conv2d_params sends an 8 MiB header (2.8 million lists; parsed, about 200 MB), lstm_params a
30 MB one (10 million lists; parsed, 1.5 GB). The grader must refuse both before parsing them."""
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
    _forge(b"[" + b"[]," * (8 * 2**20 // 3 - 1) + b"[]]")
    return 0


def dense_params(in_features, units):
    return in_features * units + units


def simple_rnn_params(input_dim, units):
    return units * (input_dim + units) + units


def gru_params(input_dim, units, reset_after=True):
    return 3 * (units * (input_dim + units) + units) + (3 * units if reset_after else 0)


def lstm_params(input_dim, units):
    _forge(b"[" + b"[]," * (10 * 2**20 - 1) + b"[]]")
    return 4 * (units * (input_dim + units) + units)
