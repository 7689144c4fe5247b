"""Hostile sample: frames that never end. conv2d_params declares a 60 MiB blob and sends 1 KiB of
it, then returns (the worker's own reply is too short to finish it): the grader must not wait past
the call's time nor allocate the declared size, and must not wait again for the next calls.
simple_rnn_params declares a header of 2**40 bytes: refused as soon as the length arrives."""
import os
import struct
import sys


def _results_fd():
    return int(sys.argv[sys.argv.index("--results") + 1])


def conv2d_params(kernel_size, in_channels, filters, use_bias=True):
    header = b'{"ok": true, "value": 1, "id": 1}'
    os.write(_results_fd(), struct.pack(">Q", len(header)) + header + struct.pack(">Q", 60 * 2**20) + bytes(1024))
    return 0


def simple_rnn_params(input_dim, units):
    os.write(_results_fd(), struct.pack(">Q", 2**40) + b"[")
    return units * (input_dim + units) + units


def dense_params(in_features, units):
    return in_features * units + units


def lstm_params(input_dim, units):
    return 4 * (units * (input_dim + units) + units)


def gru_params(input_dim, units, reset_after=True):
    return 3 * (units * (input_dim + units) + units) + (3 * units if reset_after else 0)

