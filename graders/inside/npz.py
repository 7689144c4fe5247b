"""A strict reader of the .npz blob of a wire frame: stored `.npy` members only, each referenced, sized exactly.

Nothing is inflated and nothing is allocated at a size the blob merely declares: the arrays are
views of the bytes received. Imported by `wire` on both sides of the pipe (numpy and the standard
library only; the sandbox hides the rest of `graders`).
"""

from __future__ import annotations

import ast
import struct

import numpy as np

# Bound at import, before the worker runs student code that might patch them.
from builtins import bool, bytearray, bytes, dict, int, isinstance, len, set, str, tuple, type  # noqa: A004

_literal_eval = ast.literal_eval
_frombuffer, _empty, _dtype = np.frombuffer, np.empty, np.dtype
MAX_DIMENSIONS = 32

# The zip records of an .npz (PKWARE APPNOTE 4.3.7, 4.3.12, 4.3.16).
_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_END = struct.Struct("<IHHHHIIH")
_LOCAL_SIG, _CENTRAL_SIG, _END_SIG = 0x04034B50, 0x02014B50, 0x06054B50
_STORED, _ENCRYPTED, _ZIP64_MARK = 0, 0x1, 0xFFFFFFFF
_NPY_MAGIC = b"\x93NUMPY"
_MAX_NPY_HEADER = 4096
_MAX_NAME = 64


class NpzError(ValueError):
    """The blob is not a plain, exactly sized npz of referenced numeric arrays."""


def load_arrays(blob: bytearray, names: set) -> dict[str, np.ndarray]:
    """The referenced arrays, as views of `blob`, after checking every zip and .npy record."""
    if not names:
        if blob:
            raise NpzError(f"the frame carries {len(blob)} bytes of arrays that its header does not refer to")
        return {}
    members = _stored_members(blob, names)
    return {name: _npy_array(blob, start, end, name) for name, (start, end) in members.items()}


def _stored_members(blob: bytearray, names: set) -> dict[str, tuple[int, int]]:
    """{array name: (start, end) of its .npy bytes}, from the zip's central directory."""
    if len(blob) < _END.size:
        raise NpzError("the array blob is not an npz archive")
    (signature, disk, cd_disk, on_disk, entries, cd_size, cd_offset, comment) = _END.unpack_from(blob, len(blob) - _END.size)
    if signature != _END_SIG or comment or disk or cd_disk or on_disk != entries:
        raise NpzError("the array blob is not a plain npz archive (no end record where it belongs)")
    if entries != len(names):
        raise NpzError(f"the npz holds {entries} members but the header refers to {len(names)}: "
                        "every member must be referenced")
    if cd_offset + cd_size != len(blob) - _END.size:
        raise NpzError("the npz's central directory is not where its end record says")
    members: dict[str, tuple[int, int]] = {}
    position = cd_offset
    for _ in range(entries):
        name, start, end, position = _central_entry(blob, position, cd_offset)
        if name in members or name not in names:
            raise NpzError(f"npz member {name!r} is duplicated or not referenced by the header")
        members[name] = (start, end)
    if position != cd_offset + cd_size:
        raise NpzError("the npz's central directory has trailing bytes")
    return members


def _central_entry(blob: bytearray, position: int, cd_offset: int) -> tuple[str, int, int, int]:
    if position + _CENTRAL.size > len(blob):
        raise NpzError("the npz's central directory is truncated")
    fields = _CENTRAL.unpack_from(blob, position)
    signature, flags, method, size, stored_size = fields[0], fields[3], fields[4], fields[8], fields[9]
    name_length, extra_length, comment_length, local_offset = fields[10], fields[11], fields[12], fields[16]
    if signature != _CENTRAL_SIG or name_length > _MAX_NAME:
        raise NpzError("the npz's central directory is malformed")
    raw_name = bytes(blob[position + _CENTRAL.size:position + _CENTRAL.size + name_length])
    name = raw_name.decode("ascii", "replace")
    if method != _STORED or flags & _ENCRYPTED:
        raise NpzError(f"npz member {name!r} is compressed or encrypted; only stored members are accepted")
    if size != stored_size or _ZIP64_MARK in (size, local_offset):
        raise NpzError(f"npz member {name!r} declares sizes that do not match")
    if not name.endswith(".npy"):
        raise NpzError(f"npz member {name!r} is not an .npy array")
    start = _local_data_start(blob, local_offset, raw_name, cd_offset)
    if start + size > cd_offset:
        raise NpzError(f"npz member {name!r} runs past the end of the archive's data")
    following = position + _CENTRAL.size + name_length + extra_length + comment_length
    return name[:-len(".npy")], start, start + size, following


def _local_data_start(blob: bytearray, offset: int, raw_name: bytes, cd_offset: int) -> int:
    if offset + _LOCAL.size > cd_offset:
        raise NpzError("an npz member's local header lies outside the archive")
    fields = _LOCAL.unpack_from(blob, offset)
    signature, method, name_length, extra_length = fields[0], fields[3], fields[9], fields[10]
    name_start = offset + _LOCAL.size
    if signature != _LOCAL_SIG or method != _STORED or bytes(blob[name_start:name_start + name_length]) != raw_name:
        raise NpzError("an npz member's local header does not match its directory entry")
    return name_start + name_length + extra_length


def _npy_array(blob: bytearray, start: int, end: int, name: str) -> np.ndarray:
    """The array stored in blob[start:end] as .npy, if its declared dtype and shape fill it exactly."""
    dtype, shape, fortran, data_start = _npy_header(blob, start, end, name)
    count = 1
    for dimension in shape:
        count *= dimension
    if count * dtype.itemsize != end - data_start:
        raise NpzError(f"array {name!r} declares {count * dtype.itemsize} bytes of {dtype} {shape} "
                        f"but stores {end - data_start}")
    if count == 0:
        return _empty(shape, dtype)
    flat = _frombuffer(blob, dtype=dtype, count=count, offset=data_start)
    return flat.reshape(shape, order="F" if fortran else "C")


def _npy_header(blob: bytearray, start: int, end: int, name: str):
    if end - start < len(_NPY_MAGIC) + 4 or bytes(blob[start:start + len(_NPY_MAGIC)]) != _NPY_MAGIC:
        raise NpzError(f"array {name!r} is not in .npy format")
    major = blob[start + len(_NPY_MAGIC)]
    length_format = "<H" if major == 1 else "<I" if major in (2, 3) else None
    if length_format is None:
        raise NpzError(f"array {name!r} has an unknown .npy version {major}")
    prefix = len(_NPY_MAGIC) + 2
    (length,) = struct.unpack_from(length_format, blob, start + prefix)
    text_start = start + prefix + struct.calcsize(length_format)
    if length > _MAX_NPY_HEADER or text_start + length > end:
        raise NpzError(f"array {name!r} has an oversized .npy header")
    fields = _literal_eval(bytes(blob[text_start:text_start + length]).decode("latin1"))
    if not isinstance(fields, dict) or set(fields) != {"descr", "fortran_order", "shape"}:
        raise NpzError(f"array {name!r} has a malformed .npy header")
    descr, fortran, shape = fields["descr"], fields["fortran_order"], fields["shape"]
    if (not isinstance(descr, str) or type(fortran) is not bool or not isinstance(shape, tuple)
            or len(shape) > MAX_DIMENSIONS or not all(type(n) is int and n >= 0 for n in shape)):
        raise NpzError(f"array {name!r} has a malformed .npy header")
    dtype = _dtype(descr)
    if dtype.hasobject or dtype.kind not in "biufc" or dtype.fields is not None or dtype.subdtype is not None:
        raise NpzError(f"arrays must be numeric; got dtype {dtype}")
    return dtype, shape, fortran, text_start + length
