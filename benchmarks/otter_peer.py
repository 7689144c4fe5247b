"""otter-grader, the peer a TA would pick instead: q4's and q5's checks as otter tests, graded with `otter run`.

otter executes the notebook (every cell, experiments included) and then runs its tests in the
kernel; hw3grader loads the notebook's definitions without running its experiments. The benchmark
grades the same notebook both ways and prints the ratio.
"""

from __future__ import annotations

import json
import pprint
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from reference import q4_params, q5_shapes

CASES = 12  # per family, as the rubric's [q4]/[q5] cases


def otter_tests() -> dict[str, str]:
    """{file name: source} of the otter test files (OK format) for q4 and q5, drawn with a fixed seed."""
    rng = np.random.default_rng(0)
    q4 = [_case("conv2d_params", q4_params.conv2d_params, int(rng.choice([1, 3, 5, 7])), *rng.integers(1, 257, 2))
          for _ in range(CASES)]
    q4 += [_case(name, getattr(q4_params, name), *rng.integers(1, 257, 2))
           for name in ("dense_params", "simple_rnn_params", "lstm_params", "gru_params") for _ in range(CASES)]
    q5 = [_case("conv_output_size", q5_shapes.conv_output_size, int(rng.integers(8, 65)), int(rng.integers(1, 8)),
                int(rng.integers(1, 5)), str(rng.choice(["valid", "same"])), 1) for _ in range(CASES)]
    q5 += [_case("same_padding", q5_shapes.same_padding, int(rng.integers(8, 65)), int(rng.integers(1, 8)),
                 int(rng.integers(1, 5)), int(rng.integers(1, 4))) for _ in range(CASES)]
    q5.append(f">>> [tuple(r) if r is not None else None for r in LAYER_TABLE] == {q5_shapes.LAYER_TABLE!r}\nTrue")
    return {"q4.py": _test_file("q4", 6, q4), "q5.py": _test_file("q5", 18, q5)}


def _case(name: str, function, *args) -> str:
    values = [int(a) if isinstance(a, (int, np.integer)) else a for a in args]
    call = f"{name}({', '.join(repr(v) for v in values)})"
    return f">>> {call} == {function(*values)!r}\nTrue"


def _test_file(name: str, points: int, cases: list[str]) -> str:
    test = {"name": name, "points": points, "suites": [{
        "cases": [{"code": code, "hidden": False, "locked": False} for code in cases],
        "scored": True, "setup": "", "teardown": "", "type": "doctest"}]}
    return f"OK_FORMAT = True\n\ntest = {pprint.pformat(test, width=110)}\n"


def grade_with_otter(notebook: Path, *, timeout_s: float) -> tuple[float, str]:
    """(wall seconds, outcome) of `otter generate` + `otter run` on `notebook`; outcome is the score or why not."""
    otter = [sys.executable, "-m", "otter"]
    with tempfile.TemporaryDirectory(prefix="otter-peer-") as scratch:
        folder = Path(scratch)
        (folder / "tests").mkdir()
        for name, text in otter_tests().items():
            (folder / "tests" / name).write_text(text)
        subprocess.run([*otter, "generate", "-t", "tests", "-o", "autograder.zip", "--no-requirements",
                        "--no-environment", "--no-config"], cwd=folder, check=True, capture_output=True, timeout=600)
        (folder / "out").mkdir()
        started = time.perf_counter()
        try:
            process = subprocess.run([*otter, "run", "-a", "autograder.zip", "-o", "out", "--no-logo", str(notebook)],
                                     cwd=folder, capture_output=True, text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return time.perf_counter() - started, f"stopped after {timeout_s:g} s (a lower bound)"
        seconds = time.perf_counter() - started
        results = folder / "out" / "results.json"
        if not results.exists():
            return seconds, f"no results (exit {process.returncode}): {process.stderr[-300:]}"
        data = json.loads(results.read_text())
        return seconds, f"score {sum(t.get('score', 0) for t in data.get('tests', [])):g}"
