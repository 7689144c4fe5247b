"""Hostile sample: conv2d_params writes a reply frame of its own carrying 48 MiB of stored npz
members that its header never refers to. The old decoder loaded every member; the grader must
refuse members the header does not reference."""
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
    blob = io.BytesIO()
    with zipfile.ZipFile(blob, "w", zipfile.ZIP_STORED) as archive:
        for name in ("x0", "x1"):
            text = repr({"descr": "|u1", "fortran_order": False, "shape": (24 * 2**20,)}).encode("latin1")
            text += b" " * (-(len(text) + 11) % 64) + b"\n"
            archive.writestr(name + ".npy", b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text
                             + bytes(24 * 2**20))
    _forge(b'{"ok": true, "value": 1, "id": 1}', blob.getvalue())
    return 0


def dense_params(in_features, units):
    return in_features * units + units


def simple_rnn_params(input_dim, units):
    return units * (input_dim + units) + units


def lstm_params(input_dim, units):
    return 4 * (units * (input_dim + units) + units)


def gru_params(input_dim, units, reset_after=True):
    return 3 * (units * (input_dim + units) + units) + (3 * units if reset_after else 0)

