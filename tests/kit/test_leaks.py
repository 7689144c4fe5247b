"""No leak, tested: the built kit holds nothing that answers a question, and the scan finds each kind of leak.

The good kit (built once per session, scanned at build as every kit is) is scanned again, as a wheel and
unpacked; then bad kits, each the good one with one thing slipped in, must each be found out; and a kit
built with a reference module in it is refused and deleted. The recording must be of the public seed's
cases only: the same requests as a fresh self-check of the reference, none that only a hidden seed makes.
"""

import hashlib
import io
import json
import pickle
import zipfile

import numpy as np
import pytest

from graders.core.errors import HarnessError
from graders.core.paths import REFERENCE_DIR
from graders.core.seeds import DEFAULT_SEED
from graders.core.trusted import ComputedSide, encode, request_key
from graders.kit.build import build_kit
from graders.kit.leaks import find_leaks, kit_files, reference_needles
from graders.kit.record import record_public_values
from graders.questions import BY_ID

pytestmark = pytest.mark.slow  # builds a kit: grades the reference
RECORDING = "graders/recorded/trusted.json"


@pytest.fixture(scope="module")
def needles():
    return reference_needles()


@pytest.fixture(scope="module")
def table():
    return ComputedSide({"q5": BY_ID["q5"].trusted}).value("q5", "layer_table")


def with_file(wheel, out, name, data):
    """A copy of the kit `wheel` with `name` added (or replaced) holding `data`."""
    path = out / f"bad-{len(list(out.iterdir()))}.whl"
    with zipfile.ZipFile(wheel) as good, zipfile.ZipFile(path, "w") as bad:
        for info in good.infolist():
            if info.filename != name:
                bad.writestr(info, good.read(info))
        bad.writestr(name, data)
    return path


def test_the_built_kit_holds_no_leak(built_kit, kit, needles):
    assert find_leaks(built_kit.wheel, needles=needles) == []
    assert find_leaks(kit.folder, needles=needles) == []
    files = kit_files(built_kit.wheel)
    assert not [name for name in files if name.startswith("reference/") or name.endswith("/trusted.py")
                and name != "graders/core/trusted.py"]


@pytest.mark.parametrize(("slipped_in", "found_as"), [
    ("reference module", "a file of reference/"), ("solution line", "a line of a solution region of reference/q5"),
    ("function body", "has the body of reference/q5_shapes.py layer_table()"), ("import", "an import of reference"),
    ("table as json", "the answer q5 layer_table"), ("row in a comment", "row 2 of the answer q5 layer_table"),
    ("pickled row", "row 2 of the answer q5 layer_table (as bytes)"), ("npz row", "row 2 of the answer q5 layer_table"),
    ("hashed table", "(as a hash)"), ("recorded answer", "a recorded q5 layer_table"),
    ("search results", "q1's recorded search results")])
def test_each_kind_of_leak_is_found(built_kit, tmp_path, needles, table, slipped_in, found_as):
    reference = (REFERENCE_DIR / "q5_shapes.py").read_text()
    row = table[1]
    bad = {
        "reference module": ("reference/q5_shapes.py", reference),
        "solution line": ("graders/questions/q5/helper.py", "k = 1\n    stride = pool if stride is None else "
                          "_positive_int(\"stride\", stride)\n"),
        "function body": ("graders/questions/q5/helper.py", "def table(network, input_shape):\n" +
                          reference[reference.index("    h, w, channels = input_shape"):
                                    reference.index("LAYER_TABLE = ")]),
        "import": ("graders/questions/q5/helper.py", "def f():\n    import reference.q5_shapes\n"),
        "table as json": ("graders/questions/q5/table.json", json.dumps(table)),
        "row in a comment": ("graders/questions/q5/helper.py", f"# the second row is {row!r}\n"),
        "pickled row": ("graders/questions/q5/row.pkl", pickle.dumps(row)),
        "npz row": ("graders/questions/q5/rows.npz", _npz(np.array([*row[0], row[1]], dtype=np.int64))),
        "hashed table": ("graders/questions/q5/hash.txt", hashlib.sha256(repr(table).encode()).hexdigest()),
        "recorded answer": (RECORDING, _recording_with(built_kit.wheel, table)),
        "search results": ("hw3check/best.json", (REFERENCE_DIR / "q1_search_results.json").read_text()),
    }[slipped_in]
    wheel = with_file(built_kit.wheel, tmp_path, *bad)
    leaks = find_leaks(wheel, needles=needles)
    assert any(found_as in leak.what for leak in leaks), f"{slipped_in} was not found as {found_as!r}: {leaks}"
    assert all(leak.file.split(":")[0].split("!")[0] == bad[0] for leak in leaks), leaks


def test_a_kit_built_with_a_reference_module_in_it_is_refused_and_deleted(tmp_path, kit_questions):
    with pytest.raises(HarnessError, match="reference/q5_shapes.py: a file of reference/"):
        build_kit(out=tmp_path, questions=("q4",),  # the smallest kit: one question to record
                  extra_files={"reference/q5_shapes.py": (REFERENCE_DIR / "q5_shapes.py").read_bytes()})
    assert list(tmp_path.glob("*.whl")) == []


def test_the_recording_covers_the_public_seeds_cases_only(built_kit, tmp_path, needles):
    recorded = json.loads(kit_files(built_kit.wheel)[RECORDING])
    assert recorded["seed"] == DEFAULT_SEED
    assert not {tuple(kind) for kind in recorded["kinds"].values()} & needles.answer_kinds
    assert {tuple(item) for item in recorded["withheld"]} == needles.answer_kinds & {
        (question, kind) for question, kind in needles.answer_kinds if question in built_kit.questions}
    public = record_public_values(built_kit.questions, tmp_path / "public.json")
    hidden = record_public_values(built_kit.questions, tmp_path / "hidden.json", seed=987654321987)
    public_keys = set(json.loads(public.path.read_text())["values"])
    hidden_keys = set(json.loads(hidden.path.read_text())["values"])
    assert set(recorded["values"]) == public_keys, "a self-check of the reference asks for exactly these"
    assert hidden_keys - public_keys, "the hidden seed's cases are other cases"
    assert not (hidden_keys - public_keys) & set(recorded["values"])
    assert request_key("q5", "layer_table", {}) not in recorded["values"]


def _npz(array) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, row=array)
    return buffer.getvalue()


def _recording_with(wheel, table) -> str:
    recorded = json.loads(kit_files(wheel)[RECORDING])
    key = request_key("q5", "layer_table", {})
    recorded["values"][key] = encode(table)
    recorded["kinds"][key] = ["q5", "layer_table"]
    return json.dumps(recorded)
