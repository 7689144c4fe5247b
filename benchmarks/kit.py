"""The student kit's figures: check() in a real Jupyter kernel, check_all() against a self-check, and
Gradescope's run_autograder (wall time and peak memory, for the settings the README names)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

from benchmarks.measure import PeakMemory, grade_once
from graders.kit.build import build_kit
from graders.kit.contents import converted_questions
from graders.kit.gradescope import build_autograder
from tests.kit.installed import install

PROJECT = Path(__file__).resolve().parents[1]
SAMPLE = PROJECT / "submissions" / "typical_mistakes" / "hw3.py"
REPEATS = 3


def check_timings(scratch: Path) -> dict:
    """Seconds of check() per question in a kernel (the first call, then each again), and of check_all()."""
    import nbformat
    from nbclient import NotebookClient

    questions = converted_questions()
    kit = install(build_kit(out=scratch / "kit", questions=questions).wheel, scratch / "installed")
    timed = ["import time\nfrom hw3check import check, check_all\n",
             f"started = time.perf_counter(); check({questions[0]!r}); print('first', time.perf_counter() - started)"]
    timed += [f"started = time.perf_counter(); check({q!r}); print({q!r}, time.perf_counter() - started)"
              for _ in range(REPEATS) for q in questions]
    timed += ["started = time.perf_counter(); check_all(); print('check_all', time.perf_counter() - started)"]
    code = "import tensorflow as tf  # as students' notebooks do: the worker imports it\n" + SAMPLE.read_text()
    book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in [code, *timed]])
    os.environ.update(PYTHONPATH=kit.env["PYTHONPATH"], HW3_KIT_DIR=kit.env["HW3_KIT_DIR"])
    try:
        NotebookClient(book, timeout=1200, kernel_name="python3",
                       resources={"metadata": {"path": str(scratch)}}).execute()
    finally:
        os.environ.pop("PYTHONPATH", None)
        os.environ.pop("HW3_KIT_DIR", None)
    seconds: dict[str, list[float]] = {}
    for cell in book.cells:
        for output in cell.get("outputs", []):
            for name, value in re.findall(r"^(\S+) ([\d.]+)$", output.get("text", ""), re.M):
                seconds.setdefault(name.strip("'"), []).append(float(value))
    (scratch / "hw3.py").write_text(code)  # the same code, graded as a self-check: a new process and worker
    self_check = [grade_once(scratch / "hw3.py", list(questions))[0] for _ in range(REPEATS)]
    return {"questions": questions, "seconds": seconds, "self_check": self_check}


def autograder_run(submission: Path, scratch: Path) -> dict:
    """run_autograder in a Gradescope-shaped folder on `submission`: wall seconds, peak memory, the results."""
    root = scratch / "autograder"
    with zipfile.ZipFile(build_autograder(out=scratch).path) as archive:
        archive.extractall(root / "source")
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    (root / "run_autograder").chmod(0o755)
    shutil.copytree(submission, root / "submission", ignore=shutil.ignore_patterns("__pycache__"))
    environment = {**os.environ, "AUTOGRADER_ROOT": str(root), "HW3_AUTOGRADER_PYTHON": sys.executable}
    with PeakMemory() as memory:
        started = time.perf_counter()
        subprocess.run([str(root / "run_autograder")], cwd=root, env=environment, capture_output=True, check=True)
        wall = time.perf_counter() - started
    results = json.loads((root / "results" / "results.json").read_text())
    return {"wall_s": wall, "peak_bytes": memory.peak, "score": results["score"],
            "max_score": sum(test["max_score"] for test in results["tests"])}
