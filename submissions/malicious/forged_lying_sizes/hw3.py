"""Hostile sample: conv2d_params writes a reply frame of its own whose stored .npy member declares
a (2**27,) float64 array (1 GiB) but holds 64 bytes. A decoder that allocates what a member
declares would take a gigabyte; the grader must check shape x itemsize against the stored size."""
import io
import os
import struct
import sys
import zipfile


def _forge(header, blob=b""):
    """Write a reply frame of our own to the grader's results pipe (its number is on our command line)."""
    frame = struct.pack(">Q", len(header)) + header + struct.pack(">Q", len(blob)) + blob
    fd = int(sys.argv[sys.argv.index("--results") + 1])
    view = memoryview(frame)
    while view:
        view = view[os.write(fd, view):]


def conv2d_params(kernel_size, in_channels, filters, use_bias=True):
    text = repr({"descr": "<f8", "fortran_order": False, "shape": (2**27,)}).encode("latin1")
    text += b" " * (-(len(text) + 11) % 64) + b"\n"
    blob = io.BytesIO()
    with zipfile.ZipFile(blob, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("a0.npy", b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text + bytes(64))
    _forge(b'{"ok": true, "value": {"__ndarray__": "a0"}, "id": 1}', blob.getvalue())
    return 0


def dense_params(in_features, units):
    return in_features * units + units


def simple_rnn_params(input_dim, units):
    return units * (input_dim + units) + units


def lstm_params(input_dim, units):
    return 4 * (units * (input_dim + units) + units)


def gru_params(input_dim, units, reset_after=True):
    return 3 * (units * (input_dim + units) + units) + (3 * units if reset_after else 0)

