"""What check() grades in a notebook: the kernel's cells as a notebook, and how they compare with the saved file."""

from types import SimpleNamespace

import nbformat

from graders.submission.loader import prepare_submission
from hw3check.kernel import (
    KERNEL_NOTEBOOK,
    compare,
    kernel_cells,
    saved_notebook,
    uses_only_the_kit,
    write_kernel_notebook,
)
from hw3check.notebook import kernel_notes

Q5 = "def conv_output_size(size, kernel, stride=1, padding='valid', dilation=1):\n    return size - kernel + 1\n"
Q5_FIXED = Q5.replace("size - kernel + 1", "(size - dilation * (kernel - 1) - 1) // stride + 1")


def shell(*cells, user_ns=None):
    return SimpleNamespace(history_manager=SimpleNamespace(input_hist_raw=["", *cells]), user_ns=user_ns or {})


def saved(tmp_path, *cells):
    path = tmp_path / "hw3.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells]), path)
    return path


def test_the_kernel_cells_become_a_notebook_whose_cell_n_is_in_n(tmp_path):
    cells = kernel_cells(shell("import math", Q5, "from hw3check import check\ncheck('q5')", "X = 1", "check('q4')"))
    path = write_kernel_notebook(cells, tmp_path)
    book = nbformat.read(path, as_version=4)
    assert path.name == KERNEL_NOTEBOOK
    assert [cell.source for cell in book.cells] == ["import math", Q5, "", "X = 1"], "kit cells blanked, last dropped"
    again = write_kernel_notebook([*cells, "check('q5')", "result = check_all()"], tmp_path)
    assert again.read_bytes() == path.read_bytes(), "checking again grades the same content (the same worker)"


def test_only_cells_that_merely_use_the_kit_are_left_out():
    assert uses_only_the_kit("from hw3check import check, check_all\ncheck('q5')\n")
    assert uses_only_the_kit("import hw3check\nhw3check.check_all()") and uses_only_the_kit("%load_ext x\n")
    assert not uses_only_the_kit("from hw3check import check\nX = 1")
    assert not uses_only_the_kit(Q5) and not uses_only_the_kit("def f(:")


def test_the_saved_notebook_is_found_or_named(tmp_path, monkeypatch):
    path = saved(tmp_path, Q5)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    assert saved_notebook(shell()) is None
    assert saved_notebook(shell(user_ns={"__vsc_ipynb_file__": str(path)})) == path
    monkeypatch.setenv("JPY_SESSION_NAME", str(path))
    assert saved_notebook(shell()) == path
    assert saved_notebook(None, tmp_path / "missing.ipynb") == path  # a missing name: the next way


def test_an_edit_run_but_not_saved_is_named(tmp_path):
    kernel = prepare_submission(write_kernel_notebook(["import math", Q5, "HELPER = 2", Q5_FIXED], tmp_path))
    same = compare(kernel, saved(tmp_path, "import math", Q5_FIXED, "HELPER = 2"))
    assert same.same and "define the same" in kernel_notes(same)[0].text
    stale = compare(kernel, saved(tmp_path, Q5, "OLD = 1"))
    assert stale.differ == ("conv_output_size",) and stale.kernel_only == ("HELPER",) and stale.saved_only == ("OLD",)
    note = kernel_notes(stale)[0]
    assert note.level == "warning" and "`conv_output_size` differ" in note.text and "save it" in note.text


def test_without_a_saved_file_the_result_says_what_it_graded(tmp_path):
    kernel = prepare_submission(write_kernel_notebook([Q5], tmp_path))
    note = kernel_notes(compare(kernel, None))[0]
    assert note.level == "warning" and "cells this kernel ran" in note.text and "could not be found" in note.text
