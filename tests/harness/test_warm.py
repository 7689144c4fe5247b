"""--keep-worker: the kit's check() keeps one submission's worker between gradings in one process while the
code the worker runs is the same, and starts a fresh one when it changes."""

import json
import subprocess
import sys
import textwrap

import pytest

from tests.grading import PROJECT, SAMPLES

pytestmark = pytest.mark.slow  # gradings in a child process

SCRIPT = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    import nbformat
    from graders.core.options import GradingOptions
    from graders.harness import warm
    from graders.harness.run import grade

    folder, sample = Path(sys.argv[1]), Path(sys.argv[2])
    submission = folder / "hw3.ipynb"
    cells = [sample.read_text()]
    pids = []
    for step in ("first", "same content", "a call added", "edited"):
        if step == "a call added":  # the notebook filter skips it: the worker runs the same code
            cells.append("print('checked')")
        if step == "edited":
            cells.append("EXTRA = 1")
        nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells]), submission)
        options = GradingOptions(submission=str(submission), questions=("q4",), keep_worker=True,
                                 json_path=str(folder / f"{len(pids)}.json"), report_path=str(folder / "r.html"),
                                 extra_args=("-q",))
        code = grade(options).exit_code
        pids.append([code, warm._kept["sandbox"]._process.pid])
    warm.close_kept()
    print(json.dumps(pids))
""")


def test_a_kept_worker_serves_the_same_content_and_an_edit_starts_a_new_one(tmp_path):
    run = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path), str(SAMPLES / "typical_mistakes" / "hw3.py")],
                         cwd=PROJECT, capture_output=True, text=True, timeout=600)
    (first_code, first), (same_code, same), (_, call_added), (_, edited) = json.loads(
        run.stdout.strip().splitlines()[-1])
    assert first_code == same_code == 1, run.stdout[-2000:]
    assert same == first == call_added and edited != first
    scores = [json.loads((tmp_path / f"{n}.json").read_text())["score"] for n in range(4)]
    assert len(set(scores)) == 1
