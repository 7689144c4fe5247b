"""Plain-data framing between the grader and the sandbox worker: bounded in size, items, depth and time.

Both sides import this module: the worker gets a copy of it, because the sandbox hides
`graders/`. It must therefore depend on numpy and the standard library only.

A frame is: 8-byte big-endian length, then that many bytes of a JSON header, then 8 bytes
and an `.npz` blob holding every array the header refers to. Student code can write frames
of its own to the results pipe, so the grader reads every reply as hostile: a declared length
over the limits is refused before its bytes are read; the header's size, value count and
nesting depth are checked before it is parsed; the blob is accepted only as stored
(uncompressed) `.npy` members, each referenced by the header, whose declared dtype and shape
match their stored size exactly, and the arrays are views of the bytes received (nothing is
inflated, nothing is allocated at a size the frame merely declares). Arrays never carry
objects, so no frame can carry code.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import struct
from dataclasses import dataclass

import numpy as np

try:  # graders.inside.wire in the grader; a plain module beside worker.py in the sandbox
    from . import npz
except ImportError:
    import npz

# Bound at import, before the worker runs student code that might patch them.
from builtins import (bool, bytearray, bytes, dict, float, int, isinstance, len, list, memoryview, set, str,  # noqa: A004
                      tuple, type)

_dumps, _loads = json.dumps, json.loads
_savez, _BytesIO = np.savez, io.BytesIO
_frombuffer = np.frombuffer
_NDARRAY, _GENERIC, _OBJECT = np.ndarray, np.generic, np.object_
_os_write, _os_read = os.write, os.read
_load_arrays = npz.load_arrays
MAX_FRAME_BYTES = 512 * 2**20  # what the grader may send the worker (training data included)
MAX_DEPTH = 32
READ_CHUNK = 1 << 20
_LEN = struct.Struct(">Q")
_ARRAY = "__ndarray__"
_TUPLE = "__tuple__"
_FLOAT = "__float__"
# A JSON string, written so that the regex engine runs it in one linear pass.
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_DEPTH_CHUNK = 1 << 20



class WireError(Exception):
    """A value cannot be encoded as plain data, or a frame is malformed, forged or over a limit."""


@dataclass(frozen=True)
class FrameLimits:
    """What one frame may hold; everything is checked before it is allocated."""

    max_bytes: int = MAX_FRAME_BYTES  # header + blob
    max_header_bytes: int = 8 * 2**20  # the JSON header
    max_items: int = 500_000  # JSON values in the header (an upper bound counted on its bytes)
    max_depth: int = MAX_DEPTH
    max_arrays: int = 256


REQUESTS = FrameLimits()  # what the worker accepts from the grader


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
    return frame_bytes(header, blob.getvalue())


def frame_bytes(header: bytes, blob: bytes = b"") -> bytes:
    """The frame of an encoded JSON header and its .npz blob."""
    return _LEN.pack(len(header)) + header + _LEN.pack(len(blob)) + blob


def decode(header: bytes, blob, limits: FrameLimits = REQUESTS):
    """Decode the two parts of a frame back into plain data, within `limits`.

    Args:
        blob: the .npz part; a bytearray is used in place (the arrays are views of it).

    Raises:
        WireError: when the frame is over a limit, malformed or forged (compressed, unreferenced or
            missing members, sizes that do not match their dtype and shape, object arrays).
    """
    try:
        _check_header(header, limits)
        plain = _loads(header)
        names: set = set()
        _collect_arrays(plain, names, 0, limits.max_depth)
        if len(names) > limits.max_arrays:
            raise WireError(f"the frame refers to {len(names)} arrays; at most {limits.max_arrays} are accepted")
        arrays = _load_arrays(blob if isinstance(blob, bytearray) else bytearray(blob), names)
        return _from_plain(plain, arrays)
    except WireError:
        raise
    except npz.NpzError as exc:
        raise WireError(str(exc)) from None
    except (RecursionError, MemoryError) as exc:
        raise WireError(f"frame refused: {type(exc).__name__}") from None
    except Exception as exc:  # malformed input from an untrusted peer
        raise WireError(f"malformed frame: {type(exc).__name__}: {str(exc)[:200]}") from None


def write_frame(fd: int, value) -> None:
    """Encode `value` and write the whole frame to the file descriptor `fd`."""
    write_bytes(fd, encode(value))


def write_bytes(fd: int, frame: bytes) -> None:
    """Write an encoded frame completely to `fd`."""
    view = memoryview(frame)
    while view:
        written = _os_write(fd, view)
        view = view[written:]


class FrameReader:
    """Assembles one frame from what a pipe delivers, refusing declared sizes over the limits at once.

    Ask `wanted()` how many bytes to read next (never past the end of the frame, so the bytes of
    a following frame stay in the pipe), `feed()` them, and take `parts()` once `done`.
    """

    def __init__(self, limits: FrameLimits = REQUESTS) -> None:
        self.limits = limits
        self._header = bytearray()
        self._blob = bytearray()
        self._lengths = bytearray()
        self._header_size: int | None = None
        self._blob_size: int | None = None

    @property
    def done(self) -> bool:
        return self._blob_size is not None and len(self._blob) == self._blob_size

    def wanted(self) -> int:
        """Bytes still needed by the current part of the frame (0 when the frame is complete)."""
        if self._header_size is None:
            return _LEN.size - len(self._lengths)
        if len(self._header) < self._header_size:
            return self._header_size - len(self._header)
        if self._blob_size is None:
            return 2 * _LEN.size - len(self._lengths)
        return self._blob_size - len(self._blob)

    def feed(self, data: bytes) -> None:
        """Take bytes of the frame, at most `wanted()` of them.

        Raises:
            WireError: a declared length over the limits.
        """
        while data:
            take = self.wanted()
            if take <= 0:
                raise WireError("more bytes than the frame holds")
            piece, data = data[:take], data[take:]
            if self._header_size is None or (len(self._header) == self._header_size and self._blob_size is None):
                self._lengths += piece
                self._parse_length()
            elif len(self._header) < self._header_size:
                self._header += piece
            else:
                self._blob += piece

    def parts(self) -> tuple[bytes, bytearray]:
        return bytes(self._header), self._blob

    def _parse_length(self) -> None:
        limits = self.limits
        if self._header_size is None and len(self._lengths) == _LEN.size:
            (size,) = _LEN.unpack_from(self._lengths, 0)
            if size > limits.max_header_bytes:
                raise WireError(f"a header of {size} bytes exceeds the {limits.max_header_bytes}-byte cap")
            self._header_size = size
        elif self._blob_size is None and len(self._lengths) == 2 * _LEN.size:
            (size,) = _LEN.unpack_from(self._lengths, _LEN.size)
            if size + self._header_size > limits.max_bytes:
                raise WireError(f"a frame of {size + self._header_size} bytes exceeds the {limits.max_bytes}-byte cap")
            self._blob_size = size


def split_frame(buffer: bytes, limits: FrameLimits = REQUESTS):
    """Split one complete frame off the front of `buffer`.

    Returns:
        `(header, blob, rest)`, or None while the frame is still incomplete.

    Raises:
        WireError: when a declared length is over `limits`.
    """
    reader, offset = FrameReader(limits), 0
    while not reader.done:
        take = reader.wanted()
        if offset + take > len(buffer):
            return None
        reader.feed(buffer[offset:offset + take])
        offset += take
    header, blob = reader.parts()
    return header, blob, buffer[offset:]


def read_frame_blocking(fd: int, limits: FrameLimits = REQUESTS):
    """Read one frame from `fd`, blocking; returns the decoded value or raises EOFError."""
    reader = FrameReader(limits)
    while not reader.done:
        chunk = _os_read(fd, min(reader.wanted(), READ_CHUNK))
        if not chunk:
            raise EOFError("peer closed the channel")
        reader.feed(chunk)
    return decode(*reader.parts(), limits)


# -- the header ---------------------------------------------------------------------------

def _check_header(header: bytes, limits: FrameLimits) -> None:
    """Size, value count and depth of the JSON text, from its bytes alone (before parsing)."""
    if len(header) > limits.max_header_bytes:
        raise WireError(f"a header of {len(header)} bytes exceeds the {limits.max_header_bytes}-byte cap")
    # Every JSON value but the first follows one of [ { , : so this bounds their number.
    items = 1 + sum(header.count(mark) for mark in (b"[", b"{", b",", b":"))
    if items > limits.max_items:
        raise WireError(f"the header holds up to {items} values; at most {limits.max_items} are accepted")
    if header.count(b"[") + header.count(b"{") > limits.max_depth:
        depth = _nesting_depth(_JSON_STRING.sub(b'""', header))
        if depth > limits.max_depth:
            raise WireError(f"the header is nested {depth} levels deep; at most {limits.max_depth} are accepted")


def _nesting_depth(text: bytes) -> int:
    """The deepest bracket nesting of JSON text without its strings, counted in C-speed chunks."""
    deepest = level = 0
    for start in range(0, len(text), _DEPTH_CHUNK):
        codes = _frombuffer(text, np.uint8, count=min(_DEPTH_CHUNK, len(text) - start), offset=start)
        steps = (codes == 91).astype(np.int32) + (codes == 123) - (codes == 93) - (codes == 125)
        if not steps.any():
            continue
        running = np.cumsum(steps, dtype=np.int64) + level
        deepest, level = max(deepest, int(running.max())), int(running[-1])
    return deepest


def _collect_arrays(value, names: set, depth: int, max_depth: int) -> None:
    if depth > max_depth:
        raise WireError(f"the header is nested deeper than {max_depth} levels")
    if isinstance(value, list):
        for item in value:
            _collect_arrays(item, names, depth + 1, max_depth)
    elif isinstance(value, dict):
        if set(value) == {_ARRAY}:
            if not isinstance(value[_ARRAY], str):
                raise WireError("an array reference must be a name")
            names.add(value[_ARRAY])
            return
        for item in value.values():
            _collect_arrays(item, names, depth + 1, max_depth)


# -- plain data ---------------------------------------------------------------------------

def _to_plain(value, arrays: dict, depth: int):
    if depth > MAX_DEPTH:
        raise WireError(f"data nested deeper than {MAX_DEPTH} levels")
    if value is None or type(value) in (bool, int, str):
        return value
    if type(value) is float:
        return value if math.isfinite(value) else {_FLOAT: repr(value)}
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
        items = value[_TUPLE]
        if not isinstance(items, list):
            raise WireError("a tuple must hold a list")
        return tuple(_from_plain(item, arrays) for item in items)
    if set(value) == {_FLOAT}:
        text = value[_FLOAT]
        if text not in ("nan", "inf", "-inf"):
            raise WireError("a non-finite float must be nan, inf or -inf")
        return float(text)
    return {key: _from_plain(item, arrays) for key, item in value.items()}
