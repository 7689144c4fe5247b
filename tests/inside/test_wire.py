"""The plain-data wire format between grader and worker: round trips, and refusals."""

import io
import math

import numpy as np
import pytest

from graders.inside import wire


def roundtrip(value):
    frame = wire.encode(value)
    header, blob, rest = wire.split_frame(frame)
    assert rest == b""
    return wire.decode(header, blob)


def test_nested_plain_data_round_trips_with_tuples_and_arrays():
    value = {"shape": (124, 124, 32), "rows": [((1, 2), None), "x"], "flag": True,
             "a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.array([1, 2], dtype=np.int64)}
    back = roundtrip(value)
    assert back["shape"] == (124, 124, 32) and isinstance(back["shape"], tuple)
    assert back["rows"] == [((1, 2), None), "x"]
    assert back["a"].dtype == np.float32 and np.array_equal(back["a"], value["a"])
    assert back["b"].dtype == np.int64


def test_non_finite_floats_and_numpy_scalars_survive():
    back = roundtrip([float("nan"), float("inf"), -float("inf"), np.float32(1.5), np.int64(7)])
    assert math.isnan(back[0]) and back[1] == math.inf and back[2] == -math.inf
    assert back[3:] == [1.5, 7]


@pytest.mark.parametrize("bad", [object(), {1: "int key"}, np.array([object()]), np.array(["text"]), {1, 2}])
def test_non_plain_values_are_refused(bad):
    with pytest.raises(wire.WireError):
        wire.encode(bad)


def test_deep_nesting_is_refused():
    value = []
    for _ in range(wire.MAX_DEPTH + 5):
        value = [value]
    with pytest.raises(wire.WireError, match="nested"):
        wire.encode(value)


def test_incomplete_frame_waits_and_oversized_frame_is_refused():
    frame = wire.encode({"x": 1})
    assert wire.split_frame(frame[:-1]) is None
    huge = (wire.MAX_FRAME_BYTES + 1).to_bytes(8, "big")
    with pytest.raises(wire.WireError, match="exceeds"):
        wire.split_frame(huge + b"{}")


def test_pickled_object_array_in_blob_is_refused():
    blob = io.BytesIO()
    np.savez(blob, a0=np.array([{"evil": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(wire.WireError):
        wire.decode(b'{"__ndarray__": "a0"}', blob.getvalue())


def test_malformed_header_is_a_wire_error():
    with pytest.raises(wire.WireError, match="malformed"):
        wire.decode(b"{not json", b"")
    with pytest.raises(wire.WireError):
        wire.decode(b'{"__ndarray__": "missing"}', b"")
