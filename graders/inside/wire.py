"""Plain-data framing between the grader and the sandbox worker.

Both sides import this module: the worker gets a copy of it, because the sandbox hides
`graders/`. It must therefore depend on numpy and the standard library only.

A frame is: 8-byte big-endian length, then that many bytes of a JSON header, then 8 bytes
and an `.npz` blob holding every array the header refers to. Arrays are read back with
`allow_pickle=False`, so no frame can carry code.
"""

from __future__ import annotations

import io
import json
import math
import os
import struct

import numpy as np

# Bound at import, before the worker runs student code that might patch them.
from builtins import bool, dict, float, int, isinstance, len, list, memoryview, set, str, tuple, type  # noqa: A004

_dumps, _loads = json.dumps, json.loads
_savez, _load, _BytesIO = np.savez, np.load, io.BytesIO
_NDARRAY, _GENERIC, _OBJECT = np.ndarray, np.generic, np.object_
_os_write, _os_read = os.write, os.read
MAX_FRAME_BYTES = 512 * 2**20
MAX_DEPTH = 32
_LEN = struct.Struct(">Q")
_ARRAY = "__ndarray__"
_TUPLE = "__tuple__"


class WireError(Exception):
    """A value cannot be encoded as plain data, or a frame is malformed."""


def encode(value) -> bytes:
    """Encode plain data (None, bool, int, float, str, list, tuple, str-keyed dict, ndarray).

    Returns:
        The frame bytes.

    Raises:
        WireError: for any other type, object arrays, or nesting deeper than MAX_DEPTH.
    """
    arrays: dict[str, np.ndarray] = {}
    header = _dumps(_to_plain(value, arrays, 0), allow_nan=True).encode()
    blob = _BytesIO()
    if arrays:
        _savez(blob, **arrays)
    data = blob.getvalue()
    return _LEN.pack(len(header)) + header + _LEN.pack(len(data)) + data


def decode(header: bytes, blob: bytes):
    """Decode the two parts of a frame back into plain data.

    Raises:
        WireError: when the JSON or npz is malformed, or an array has object dtype.
    """
    try:
        arrays = _load_arrays(blob)
        return _from_plain(_loads(header), arrays)
    except WireError:
        raise
    except Exception as exc:  # malformed input from an untrusted peer
        raise WireError(f"malformed frame: {type(exc).__name__}: {exc}") from None


def write_frame(fd: int, value) -> None:
    """Encode `value` and write the whole frame to the file descriptor `fd`."""
    write_bytes(fd, encode(value))


def write_bytes(fd: int, frame: bytes) -> None:
    """Write an encoded frame completely to `fd`."""
    view = memoryview(frame)
    while view:
        written = _os_write(fd, view)
        view = view[written:]


def split_frame(buffer: bytes):
    """Split one complete frame off the front of `buffer`.

    Returns:
        `(header, blob, rest)`, or None while the frame is still incomplete.

    Raises:
        WireError: when a declared length is larger than MAX_FRAME_BYTES.
    """
    header_end = _part_end(buffer, 0)
    if header_end is None:
        return None
    blob_end = _part_end(buffer, header_end)
    if blob_end is None:
        return None
    header = buffer[_LEN.size:header_end]
    blob = buffer[header_end + _LEN.size:blob_end]
    return header, blob, buffer[blob_end:]


def read_frame_blocking(fd: int):
    """Read one frame from `fd`, blocking; returns the decoded value or raises EOFError."""
    buffer = b""
    while True:
        parts = split_frame(buffer)
        if parts is not None:
            return decode(parts[0], parts[1])
        chunk = _os_read(fd, 1 << 20)
        if not chunk:
            raise EOFError("peer closed the channel")
        buffer += chunk


def _part_end(buffer: bytes, start: int):
    if len(buffer) < start + _LEN.size:
        return None
    (length,) = _LEN.unpack_from(buffer, start)
    if length > MAX_FRAME_BYTES:
        raise WireError(f"frame part of {length} bytes exceeds the {MAX_FRAME_BYTES}-byte cap")
    end = start + _LEN.size + length
    return end if len(buffer) >= end else None


def _load_arrays(blob: bytes) -> dict[str, np.ndarray]:
    if not blob:
        return {}
    with _load(_BytesIO(blob), allow_pickle=False) as npz:
        return {name: npz[name] for name in npz.files}


def _to_plain(value, arrays: dict, depth: int):
    if depth > MAX_DEPTH:
        raise WireError(f"data nested deeper than {MAX_DEPTH} levels")
    if value is None or type(value) in (bool, int, str):
        return value
    if type(value) is float:
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if isinstance(value, _GENERIC) and not isinstance(value, _OBJECT):
        return _to_plain(value.item(), arrays, depth + 1)
    if type(value) is _NDARRAY:
        return {_ARRAY: _store_array(value, arrays)}
    if type(value) in (list, tuple):
        items = [_to_plain(item, arrays, depth + 1) for item in value]
        return {_TUPLE: items} if type(value) is tuple else items
    if type(value) is dict:
        if not all(type(key) is str for key in value):
            raise WireError("dict keys must be strings")
        return {key: _to_plain(item, arrays, depth + 1) for key, item in value.items()}
    raise WireError(f"a value of type {type(value).__name__} is not plain data")


def _store_array(array: np.ndarray, arrays: dict) -> str:
    if array.dtype.hasobject or array.dtype.kind not in "biufc":
        raise WireError(f"arrays must be numeric; got dtype {array.dtype}")
    name = f"a{len(arrays)}"
    arrays[name] = array
    return name


def _from_plain(value, arrays: dict):
    if isinstance(value, list):
        return [_from_plain(item, arrays) for item in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {_ARRAY}:
        return arrays[value[_ARRAY]]
    if set(value) == {_TUPLE}:
        return tuple(_from_plain(item, arrays) for item in value[_TUPLE])
    if set(value) == {"__float__"}:
        return float(value["__float__"])
    return {key: _from_plain(item, arrays) for key, item in value.items()}
