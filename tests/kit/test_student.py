"""A student's two ways to check, with the installed kit alone: `hw3check` in a terminal, `check("q5")` in Jupyter.

The notebook runs in a real Jupyter kernel (ipykernel, through nbclient) whose Python sees only the kit;
its cells define typical mistakes, then call check("q5"); the test reads the result from the cell's HTML.
"""

import re
import shutil

import nbformat
import pytest

from graders.core.exits import EXIT_SOME_FAILED, EXIT_USAGE
from tests.grading import SAMPLES

pytestmark = pytest.mark.slow  # grades with the installed kit; starts a Jupyter kernel
TYPICAL = SAMPLES / "typical_mistakes" / "hw3.py"
TABLE_CELLS = ("(256, 256, 64)", "1792", "51232", "819328", "204864")  # cells of q5's table: never shown


def test_hw3check_prints_a_self_checks_lines_and_says_public_checks(kit, tmp_path):
    shutil.copy(TYPICAL, tmp_path / "hw3.py")
    run = kit.run("-m", "hw3check.cli", "hw3.py", "--questions", "q5", cwd=tmp_path)
    output = run.stdout
    assert run.returncode == EXIT_SOME_FAILED, output[-3000:]
    assert re.search(r"q5  Convolution and pooling shapes\s+4/9", output)
    assert "[q5.conv.valid] conv_output_size(size=28, kernel=5): expected 24, got 23" in output
    assert "public checks only: this is not your grade" in output and "9 checks of answers" in output
    reports = list((tmp_path / "reports" / "out").glob("hw3-*.q5.html"))
    assert len(reports) == 1, "the report where a self-check writes it"
    html = reports[0].read_text()
    assert 'id="public-checks"' in html and "TA&#39;s grading" in html
    assert not [cell for cell in TABLE_CELLS if cell in html + output], "no cell of the table's answer"


@pytest.mark.parametrize("flag", [["--seed", "7"], ["--hidden"], ["--mnist", "x.npz"], ["--rubric", "r.toml"]])
def test_hw3check_refuses_the_tas_options(kit, tmp_path, flag):
    run = kit.run("-m", "hw3check.cli", str(TYPICAL), *flag, cwd=tmp_path)
    assert run.returncode == EXIT_USAGE and "public checks only" in run.stderr


def test_hw3check_names_the_questions_it_holds(kit, kit_questions, tmp_path):
    missing = next((q for q in ("q1", "q3", "q6", "q7") if q not in kit_questions), "q8")  # q8: no such question
    run = kit.run("-m", "hw3check.cli", str(TYPICAL), "--questions", missing, cwd=tmp_path)
    assert run.returncode == EXIT_USAGE and f"no grader for question {missing!r}" in run.stderr


def test_check_q5_in_a_real_kernel_shows_the_result_in_the_cell(kit, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    definitions = TYPICAL.read_text()
    saved = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(definitions),
                                            nbformat.v4.new_code_cell("from hw3check import check\ncheck('q5')")])
    path = tmp_path / "hw3.ipynb"
    nbformat.write(saved, path)
    edited = definitions.replace("def conv_output_size", "def conv_output_size_old", 1)
    run = nbformat.v4.new_notebook(cells=[
        *saved.cells, nbformat.v4.new_code_cell("check('q5')"),
        nbformat.v4.new_code_cell(edited),  # edited and run, never saved
        nbformat.v4.new_code_cell("check('q5')")])
    monkeypatch.setenv("PYTHONPATH", kit.env["PYTHONPATH"])
    monkeypatch.setenv("HW3_KIT_DIR", kit.env["HW3_KIT_DIR"])
    monkeypatch.setenv("JPY_SESSION_NAME", str(path))  # as Jupyter Server tells a kernel its notebook
    NotebookClient(run, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    first, again, after_edit = (_html(run.cells[index]) for index in (1, 2, 4))
    statuses = dict(re.findall(r'data-check="(q5\.[\w.]+)" data-status="(\w+)"', first))
    assert statuses["q5.conv.valid"] == "failed" and statuses["q5.conv.same"] == "passed"
    assert statuses["q5.table.layer1"] == "skipped" and len(statuses) == 18
    assert "HW3 public checks: 4 / 9" in first and "Public checks only: this is not your grade" in first
    assert "expected 24, got 23" in first and "They define the same as the saved hw3.ipynb" in first
    assert not [cell for cell in TABLE_CELLS if cell in first]
    assert dict(re.findall(r'data-check="(q5\.[\w.]+)" data-status="(\w+)"', again)) == statuses
    assert "is not what this kernel ran" in after_edit and "`conv_output_size_old` only in this kernel" in after_edit


def _html(cell) -> str:
    shown = [output["data"]["text/html"] for output in cell.outputs if "text/html" in output.get("data", {})]
    errors = [output for output in cell.outputs if output.get("output_type") == "error"]
    assert shown and not errors, cell.outputs
    return shown[0]


def test_without_bubblewrap_the_kit_says_so_once_plainly(kit, tmp_path):
    run = kit.run("-m", "hw3check.cli", str(TYPICAL), "--questions", "q4", "--isolation", "process", cwd=tmp_path)
    assert run.returncode == EXIT_SOME_FAILED, run.stdout[-2000:]
    assert run.stdout.count("plain child process") == 1 and "WARNING" not in run.stdout + run.stderr
    assert "isolation: process" in run.stdout
