"""The plain-data wire format between grader and worker: round trips, refusals, forged frames and a fuzz.

Student code can write frames to the results pipe itself, so every frame the grader reads is
hostile until checked: these tests forge each kind (compressed, unreferenced or lying members,
oversized or deeply nested headers, frames that never end) and fuzz the decoder with hypothesis.
"""

import io
import json
import math
import struct
import zipfile
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graders.inside import wire
from graders.sandbox.sandbox import REPLY_LIMITS

SMALL = wire.FrameLimits(max_bytes=4 * 2**20, max_header_bytes=2**20, max_items=10_000, max_arrays=8)


def roundtrip(value, limits=wire.REQUESTS):
    frame = wire.encode(value)
    header, blob, rest = wire.split_frame(frame, limits)
    assert rest == b""
    return wire.decode(header, blob, limits)


def npy_bytes(descr: str, shape: tuple, data: bytes, *, version: int = 1) -> bytes:
    """An .npy file whose header declares `descr` and `shape`, holding exactly `data`."""
    text = repr({"descr": descr, "fortran_order": False, "shape": shape}).encode("latin1")
    text += b" " * (-(len(text) + 11) % 64) + b"\n"
    length = struct.pack("<H", len(text)) if version == 1 else struct.pack("<I", len(text))
    return b"\x93NUMPY" + bytes([version, 0]) + length + text + data


def npz_bytes(members: dict, compression=zipfile.ZIP_STORED) -> bytes:
    blob = io.BytesIO()
    with zipfile.ZipFile(blob, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(f"{name}.npy", data)
    return blob.getvalue()


def refer(*names) -> bytes:
    return json.dumps([{"__ndarray__": name} for name in names]).encode()


# -- round trips ------------------------------------------------------------------------------

def test_nested_plain_data_round_trips_with_tuples_and_arrays():
    value = {"shape": (124, 124, 32), "rows": [((1, 2), None), "x"], "flag": True,
             "a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.array([1, 2], dtype=np.int64),
             "f": np.asfortranarray(np.arange(6.0).reshape(2, 3)), "empty": np.zeros((0, 3))}
    back = roundtrip(value)
    assert back["shape"] == (124, 124, 32) and isinstance(back["shape"], tuple)
    assert back["rows"] == [((1, 2), None), "x"]
    assert back["a"].dtype == np.float32 and np.array_equal(back["a"], value["a"])
    assert back["b"].dtype == np.int64
    assert np.array_equal(back["f"], value["f"]) and back["empty"].shape == (0, 3)
    back["a"][0, 0] = 9  # graders may work on what they receive in place
    assert back["a"][0, 0] == 9


def test_non_finite_floats_and_numpy_scalars_survive():
    back = roundtrip([float("nan"), float("inf"), -float("inf"), np.float32(1.5), np.int64(7)])
    assert math.isnan(back[0]) and back[1] == math.inf and back[2] == -math.inf
    assert back[3:] == [1.5, 7]


@pytest.mark.parametrize("bad", [object(), {1: "int key"}, np.array([object()]), np.array(["text"]), {1, 2}])
def test_non_plain_values_are_refused(bad):
    with pytest.raises(wire.WireError):
        wire.encode(bad)


def test_deep_nesting_is_refused_when_encoding():
    value = []
    for _ in range(wire.MAX_DEPTH + 5):
        value = [value]
    with pytest.raises(wire.WireError, match="nested"):
        wire.encode(value)


def test_a_frame_is_read_part_by_part_and_never_past_its_end():
    first, second = wire.encode({"x": 1}), wire.encode({"y": np.arange(3)})
    reader, stream = wire.FrameReader(SMALL), first + second
    while not reader.done:
        take = reader.wanted()
        reader.feed(stream[:take])
        stream = stream[take:]
    assert stream == second and wire.decode(*reader.parts(), SMALL) == {"x": 1}


# -- forged frames: every refusal happens before anything is allocated at a declared size ------

def test_declared_lengths_over_the_limits_are_refused_before_their_bytes_arrive():
    with pytest.raises(wire.WireError, match="header of .* exceeds"):
        wire.FrameReader(SMALL).feed((SMALL.max_header_bytes + 1).to_bytes(8, "big"))
    with pytest.raises(wire.WireError, match="frame of .* exceeds"):
        wire.FrameReader(SMALL).feed((2).to_bytes(8, "big") + b"{}" + (2**62).to_bytes(8, "big"))
    assert wire.split_frame(wire.encode({"x": 1})[:-1], SMALL) is None  # incomplete: wait for more


def test_compressed_members_are_refused():
    zeros = npy_bytes("<f8", (2**17,), bytes(2**20))
    for compression in (zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA):
        with pytest.raises(wire.WireError, match="compressed"):
            wire.decode(refer("a0"), npz_bytes({"a0": zeros}, compression), SMALL)


def test_unreferenced_members_are_refused():
    member = npy_bytes("<f8", (2,), bytes(16))
    with pytest.raises(wire.WireError, match="does not refer"):
        wire.decode(b'{"ok": true}', npz_bytes({"a0": member}), SMALL)
    with pytest.raises(wire.WireError, match="every member must be referenced"):
        wire.decode(refer("a0"), npz_bytes({"a0": member, "a1": member}), SMALL)
    with pytest.raises(wire.WireError, match="not referenced"):
        wire.decode(refer("a0"), npz_bytes({"zz": member}), SMALL)
    with pytest.raises(wire.WireError):
        wire.decode(b'{"__ndarray__": "missing"}', b"", SMALL)


@pytest.mark.parametrize("descr, shape, stored", [
    ("<f8", (10**9,), 8),  # a gigabyte declared, eight bytes stored
    ("<f8", (3,), 32),  # more stored than declared
    ("<f4", (2**62, 2**62), 16),  # a shape whose size overflows any fixed-width integer
])
def test_sizes_that_lie_are_refused(descr, shape, stored):
    blob = npz_bytes({"a0": npy_bytes(descr, shape, bytes(stored))})
    with pytest.raises(wire.WireError, match="declares"):
        wire.decode(refer("a0"), blob, SMALL)


def test_a_central_directory_that_lies_about_a_member_is_refused():
    blob = bytearray(npz_bytes({"a0": npy_bytes("<f8", (2,), bytes(16))}))
    directory = blob.rindex(b"PK\x01\x02")
    struct.pack_into("<II", blob, directory + 20, 2**31, 2**31)  # compressed and uncompressed sizes
    with pytest.raises(wire.WireError, match="past the end"):
        wire.decode(refer("a0"), bytes(blob), SMALL)


@pytest.mark.parametrize("descr", ["|O", "<U4", "|V8", "[('a', '<f8')]", "<M8[s]"])
def test_only_numeric_arrays_are_accepted(descr):
    blob = npz_bytes({"a0": npy_bytes(descr, (1,), bytes(np.dtype(eval(descr) if descr[0] == "[" else descr).itemsize))})
    with pytest.raises(wire.WireError):
        wire.decode(refer("a0"), blob, SMALL)


def test_pickled_object_array_in_blob_is_refused():
    blob = io.BytesIO()
    np.savez(blob, a0=np.array([{"evil": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(wire.WireError):
        wire.decode(b'{"__ndarray__": "a0"}', blob.getvalue())


def test_a_huge_header_of_empty_lists_is_refused_without_parsing_it(monkeypatch):
    header = b"[" + b"[]," * 400_000 + b"[]]"
    monkeypatch.setattr(wire, "_loads", lambda text: pytest.fail("the header was parsed"))
    with pytest.raises(wire.WireError, match="values"):
        wire.decode(header, b"", wire.FrameLimits(max_items=100_000))


def test_deep_nesting_is_refused_without_parsing_it(monkeypatch):
    monkeypatch.setattr(wire, "_loads", lambda text: pytest.fail("the header was parsed"))
    with pytest.raises(wire.WireError, match="nested 5000 levels"):
        wire.decode(b"[" * 5000 + b"]" * 5000, b"", SMALL)
    # brackets inside strings are text, not nesting
    monkeypatch.undo()
    assert wire.decode(json.dumps(["[" * 5000]).encode(), b"", SMALL) == ["[" * 5000]


def test_malformed_header_is_a_wire_error():
    with pytest.raises(wire.WireError, match="malformed"):
        wire.decode(b"{not json", b"")
    with pytest.raises(wire.WireError):
        wire.decode(b'{"__float__": "1e999999"}', b"")
    with pytest.raises(wire.WireError):
        wire.decode(b"[" + b"9" * 5000 + b"]", b"")  # Python's int-digit limit, not a hang


def test_reply_limits_leave_room_for_every_legitimate_result():
    # the largest results graders receive: q1's predictions on a full MNIST test set, q7's maps
    value = {"ok": True, "value": {"probabilities": np.random.rand(10_000, 10).astype(np.float32),
                                   "maps": np.random.rand(16, 28, 28), "history": list(range(1000))}}
    assert roundtrip(value, REPLY_LIMITS)["value"]["maps"].shape == (16, 28, 28)


# -- fuzz ---------------------------------------------------------------------------------------

PLAIN = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**63) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=8).filter(lambda k: not k.startswith("__")), inner, max_size=4)
    | st.builds(lambda n, dtype: np.arange(n).astype(dtype), st.integers(0, 50),
                st.sampled_from(["<f4", ">f8", "<i8", "|u1", "|b1", "<c16"])),
    max_leaves=30)


def equal(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
    return a == b and type(a) is type(b)


def fuzz(examples: int):
    return settings(max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow])


QUICK, DEEP = 40, 2000  # examples per fuzz in the quick suite, and in the slow one


def mutations():
    """A valid frame with arrays, then bytes flipped, cut, inserted or lengths rewritten."""
    base = wire.encode({"ok": True, "value": [np.arange(20, dtype=np.float64), (1, "x"), {"k": np.ones((2, 3))}]})
    return st.tuples(st.just(base), st.lists(st.tuples(st.integers(0, len(base) - 1), st.integers(0, 255)),
                                             max_size=6),
                     st.integers(0, len(base)), st.binary(max_size=64))


def check_round_trip(value):
    assert equal(roundtrip({"value": value}, REPLY_LIMITS)["value"], value)


def check_adversarial(case):
    """A mutated frame is decoded or refused with a WireError, nothing else."""
    base, flips, cut, inserted = case
    frame = bytearray(base)
    for position, byte in flips:
        frame[position] = byte
    frame = bytes(frame[:cut]) + inserted + bytes(frame[cut:])
    try:
        parts = wire.split_frame(frame, SMALL)
        if parts is not None:
            wire.decode(parts[0], parts[1], SMALL)
    except wire.WireError:
        pass


def check_random(header, blob):
    try:
        wire.decode(header, blob, SMALL)
    except wire.WireError:
        pass


NESTED = st.recursive(st.just([]) | st.just({}) | st.just("["),
                      lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.just("k"), inner, max_size=1),
                      max_leaves=200)


def check_nested(value):
    try:
        wire.decode(json.dumps(value).encode(), b"", SMALL)
    except wire.WireError as exc:
        assert "nested" in str(exc) or "values" in str(exc)


@fuzz(QUICK)
@given(PLAIN)
def test_fuzz_plain_data_round_trips(value):
    check_round_trip(value)


@fuzz(QUICK)
@given(mutations())
def test_fuzz_adversarial_frames_are_decoded_or_refused(case):
    check_adversarial(case)


@fuzz(QUICK)
@given(st.binary(max_size=512), st.binary(max_size=512))
def test_fuzz_random_bytes_are_refused_cleanly(header, blob):
    check_random(header, blob)


@fuzz(QUICK)
@given(NESTED)
def test_fuzz_nested_headers_are_bounded(value):
    check_nested(value)


@pytest.mark.slow
@fuzz(DEEP)
@given(PLAIN, mutations(), st.binary(max_size=2048), st.binary(max_size=2048), NESTED)
def test_fuzz_deep(value, case, header, blob, nested):
    check_round_trip(value)
    check_adversarial(case)
    check_random(header, blob)
    check_nested(nested)


def test_deflate_bomb_member_is_refused_at_its_directory_entry():
    # 64 MiB of zeros deflate to ~64 KiB: the grader must never inflate it
    compressor, chunks = zlib.compressobj(1, zlib.DEFLATED, -15), []
    header = npy_bytes("<f8", (2**23,), b"")
    chunks.append(compressor.compress(header))
    zeros = bytes(2**20)
    for _ in range(64):
        chunks.append(compressor.compress(zeros))
    chunks.append(compressor.flush())
    blob = forged_deflated_npz("a0.npy", b"".join(chunks), 2**26 + len(header))
    with pytest.raises(wire.WireError, match="compressed"):
        wire.decode(refer("a0"), blob, REPLY_LIMITS)


def forged_deflated_npz(name: str, deflated: bytes, size: int) -> bytes:
    """A zip holding one deflated member written by hand (zipfile would need the data to compress)."""
    raw = name.encode()
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, 0, len(deflated), size, len(raw), 0) + raw
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, 0, len(deflated), size,
                          len(raw), 0, 0, 0, 0, 0, 0) + raw
    body = local + deflated
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), len(body), 0)
    return body + central + end
