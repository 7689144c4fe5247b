"""Tests for the submission loader: it reads and filters student code but never runs it."""

from __future__ import annotations

import json

import pytest

from graders.core.errors import SubmissionLoadError
from graders.submission.loader import LoaderLimits, prepare_submission
from tests.submission.files import assert_compiles, write_notebook

# --- single .py files --------------------------------------------------------------------------


def test_py_file_is_kept_verbatim(tmp_path):
    source = "import numpy as np\n\ndef f(x):\n    return x  # comment\n\nif __name__ == '__main__':\n    f(1)\n"
    path = tmp_path / "hw3.py"
    path.write_text(source)
    prepared = prepare_submission(path)
    assert prepared.label == str(path)
    [unit] = prepared.units
    assert (unit.origin, unit.code, unit.filename) == ("hw3.py", source, "hw3.py")
    assert prepared.problems == () and prepared.skipped == () and prepared.conflicts == {}


def test_empty_py_file_loads_as_an_empty_unit(tmp_path):
    (tmp_path / "hw3.py").write_text("")
    [unit] = prepare_submission(tmp_path / "hw3.py").units
    assert unit.code == ""


def test_bom_is_dropped(tmp_path):
    (tmp_path / "hw3.py").write_bytes(b"\xef\xbb\xbfX = 1\n")
    assert prepare_submission(tmp_path / "hw3.py").units[0].code == "X = 1\n"


def test_py_syntax_error_is_a_problem_with_line_and_text(tmp_path):
    (tmp_path / "hw3.py").write_text("x = 1\n\ndef f(:\n    pass\n")
    prepared = prepare_submission(tmp_path / "hw3.py")
    assert prepared.units == ()
    [problem] = prepared.problems
    assert problem.origin == "hw3.py"
    assert problem.message.startswith("SyntaxError:")
    assert "line 3" in problem.message and "def f(:" in problem.message


def test_non_utf8_py_is_a_problem(tmp_path):
    (tmp_path / "hw3.py").write_bytes(b"name = '\xe9t\xe9'\n")
    prepared = prepare_submission(tmp_path / "hw3.py")
    assert prepared.units == ()
    assert prepared.problems[0].origin == "hw3.py" and "not UTF-8" in prepared.problems[0].message


def test_null_bytes_and_deep_nesting_are_problems_not_crashes(tmp_path):
    (tmp_path / "a.py").write_bytes(b"x = 1\x00\n")
    (tmp_path / "b.py").write_text("x = " + "(" * 100_000 + ")" * 100_000 + "\n")
    (tmp_path / "c.py").write_text("x = " + "-" * 200_000 + "1\n")
    prepared = prepare_submission(tmp_path)
    assert [p.origin for p in prepared.problems] == ["a.py", "b.py", "c.py"]


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("missing.py", None, "does not exist"),
        ("notes.txt", "hello", "is not a .py, .ipynb or .zip"),
    ],
)
def test_unusable_paths_are_refused(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    with pytest.raises(SubmissionLoadError, match=message):
        prepare_submission(path)


def test_huge_notebook_is_refused_before_reading(tmp_path):
    path = tmp_path / "hw3.ipynb"
    with open(path, "wb") as sparse:
        sparse.truncate(2 * 2**30)  # sparse: instant, and reading it would take 2 GB
    with pytest.raises(SubmissionLoadError, match=r"2048\.0 MiB.*limit for one file is 20\.0 MiB"):
        prepare_submission(path)


def test_content_hash_is_stable_and_sees_every_byte(tmp_path):
    (tmp_path / "a.py").write_text("X = 1\n")
    (tmp_path / "b.py").write_text("Y = 2\n")
    first = prepare_submission(tmp_path).content_hash
    assert prepare_submission(tmp_path).content_hash == first
    (tmp_path / "b.py").write_text("Y = 3\n")
    assert prepare_submission(tmp_path).content_hash != first


# --- folders -----------------------------------------------------------------------------------


def test_folder_units_imports_and_conflicts(tmp_path):
    (tmp_path / "hw3.py").write_text("from helpers import scale\nSHARED = 1\ndef answer():\n    return scale(2)\n")
    (tmp_path / "helpers.py").write_text("import hw3\nSHARED = 2\n_private = 1\ndef scale(x):\n    return 2 * x\n")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "mod.py").write_text("def scale(x):\n    return x\n")
    prepared = prepare_submission(tmp_path)
    assert [u.origin for u in prepared.units] == ["helpers.py", "hw3.py", "pkg/__init__.py", "pkg/mod.py"]
    assert [u.filename for u in prepared.units] == ["helpers.py", "hw3.py", "pkg/__init__.py", "pkg/mod.py"]
    assert prepared.conflicts == {"SHARED": ("helpers.py", "hw3.py"), "scale": ("helpers.py", "pkg/mod.py")}
    assert "name SHARED is defined in both helpers.py and hw3.py" in [p.message for p in prepared.problems]
    assert prepared.to_json()["conflicts"]["scale"] == ["helpers.py", "pkg/mod.py"]


def test_folder_ignores_junk_and_reports_refused_files(tmp_path):
    (tmp_path / "hw3.py").write_text("X = 1\n")
    for junk in (".hidden.py", "__pycache__/hw3.py", "__MACOSX/hw3.py", ".ipynb_checkpoints/nb-checkpoint.ipynb"):
        (tmp_path / junk).parent.mkdir(exist_ok=True)
        (tmp_path / junk).write_text("X = 2\n")
    for name in ("conftest.py", "sitecustomize.py", "usercustomize.py"):
        (tmp_path / name).write_text("import os\n")
    (tmp_path / "data.txt").write_text("not code")
    prepared = prepare_submission(tmp_path)
    assert [u.origin for u in prepared.units] == ["hw3.py"]
    assert sorted(p.message for p in prepared.problems) == [
        f"ignored: {name} is never loaded from a submission"
        for name in ("conftest.py", "sitecustomize.py", "usercustomize.py")
    ]


def test_folder_symlinks(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.py").write_text("SECRET = 1\n")
    root = tmp_path / "submission"
    root.mkdir()
    (root / "hw3.py").write_text("import os\n")
    (root / "escape.py").symlink_to(outside / "secret.py")
    (root / "escape_dir").symlink_to(outside)
    (root / "alias.py").symlink_to(root / "hw3.py")
    (root / "loop").symlink_to(root / "loop")
    (root / "loop.py").symlink_to(root / "loop.py")
    (root / "inner_dir").symlink_to(root)
    prepared = prepare_submission(root)
    assert [u.origin for u in prepared.units] == ["alias.py", "hw3.py"]
    assert sorted(p.message for p in prepared.problems) == [
        "ignored symlink escape.py: it points outside the submission",
        "ignored symlink escape_dir: it points outside the submission",
        "ignored symlink inner_dir: links to folders are not followed",
        "ignored symlink loop.py: it does not point to a file",
    ]


def test_folder_limits(tmp_path):
    for index in range(3):
        (tmp_path / f"m{index}.py").write_text("X = 1\n" * 100)
    with pytest.raises(SubmissionLoadError, match="3 .py/.ipynb files; the limit is 2"):
        prepare_submission(tmp_path, limits=LoaderLimits(max_files=2))
    with pytest.raises(SubmissionLoadError, match="add up to more than"):
        prepare_submission(tmp_path, limits=LoaderLimits(max_total_bytes=1000))
    with pytest.raises(SubmissionLoadError, match="m0.py is .*limit for one file"):
        prepare_submission(tmp_path, limits=LoaderLimits(max_file_bytes=500))


def test_folder_without_python_is_refused(tmp_path):
    (tmp_path / "README.md").write_text("hi")
    (tmp_path / "conftest.py").write_text("")
    with pytest.raises(SubmissionLoadError, match=f"no .py or .ipynb file found in {tmp_path}"):
        prepare_submission(tmp_path)


def test_unit_filenames_are_safe_and_unique(tmp_path):
    (tmp_path / "my hw.py").write_text("A = 1\n")
    (tmp_path / "my_hw.py").write_text("B = 1\n")
    write_notebook(tmp_path / "hw3.ipynb", "C = 1")
    (tmp_path / "hw3_ipynb.py").write_text("D = 1\n")
    filenames = [u.filename for u in prepare_submission(tmp_path).units]
    assert filenames == ["hw3_ipynb_2.py", "hw3_ipynb.py", "my_hw_2.py", "my_hw.py"]  # real names win


# --- notebooks ---------------------------------------------------------------------------------

HOMEWORK_CELLS = (
    "%matplotlib inline\nimport numpy as np\nfrom tensorflow import keras",
    "!pip install keras-tuner\nimport keras_tuner as kt",
    "BEST_HYPERPARAMETERS = {'units': 128, 'lr': 1e-3}  # tuned\n"
    "LAYER_TABLE = [((256, 256, 64), 1792), ((128, 128, 64), 36928)]\n"
    "SCALE = 2 ** 8 / 255\nactivation = lambda x: np.maximum(x, 0)",
    "@keras.saving.register_keras_serializable()\n"
    "def build_model(hp):\n    # the architecture from Q3\n    units = hp.Int('units', 32, 256)\n"
    "    return keras.Sequential([keras.layers.Dense(units)])",
    "tuner = kt.RandomSearch(build_model, objective='val_loss')\ntuner.search(x, y, epochs=50)",
    "model = build_model(hp)\nfor epoch in range(3):\n    pass\nprint('done')",
    "%%time\nhistory = model.fit(x, y)",
    "def broken(:\n    pass",
    "if __name__ == '__main__':\n    main()",
    "'''A docstring.'''\ntry:\n    import torch\nexcept ImportError:\n    torch = None\n"
    "if SCALE > 1:\n    MODE = 'big'\nelse:\n    MODE = 'small'",
    "class Shapes:\n    \"\"\"Q5.\"\"\"\n    def count(self):\n        return 1",
    "width = model.layers[0].units\nflag = (n := 3)",
)


def test_notebook_keeps_definitions_and_skips_experiments(tmp_path):
    write_notebook(tmp_path / "hw3.ipynb", *HOMEWORK_CELLS, markdown="# Homework 3")
    prepared = prepare_submission(tmp_path / "hw3.ipynb")
    [unit] = prepared.units
    assert (unit.origin, unit.filename) == ("hw3.ipynb", "hw3_ipynb.py")
    assert_compiles(unit.code)
    for kept in ("import numpy as np", "import keras_tuner as kt", "BEST_HYPERPARAMETERS = {'units': 128",
                 "LAYER_TABLE = [((256, 256, 64), 1792)", "activation = lambda x: np.maximum(x, 0)",
                 "@keras.saving.register_keras_serializable()\ndef build_model(hp):\n    # the architecture",
                 "except ImportError:\n    torch = None", "MODE = 'small'", "class Shapes:",
                 "# --- hw3.ipynb, cell 2 ---"):
        assert kept in unit.code
    for dropped in ("tuner.", "tuner =", "model =", "print", "%", "!pip", "history", "broken", "main()",
                    "width", "docstring"):
        assert dropped not in unit.code


def test_notebook_skipped_statements_say_why_and_what(tmp_path):
    write_notebook(tmp_path / "hw3.ipynb", *HOMEWORK_CELLS, markdown="# Homework 3")
    prepared = prepare_submission(tmp_path / "hw3.ipynb")
    skipped = {(s.origin, s.reason, s.names) for s in prepared.skipped}
    assert ("hw3.ipynb, cell 2, line 1", "magic", ()) in skipped
    assert ("hw3.ipynb, cell 3, line 1", "shell command", ()) in skipped
    assert ("hw3.ipynb, cell 6, line 1", "assignment calls a function", ("tuner",)) in skipped
    assert ("hw3.ipynb, cell 6, line 2", "top-level call", ()) in skipped
    assert ("hw3.ipynb, cell 7, line 1", "assignment calls a function", ("model",)) in skipped
    assert ("hw3.ipynb, cell 7, line 2", "loop", ("epoch",)) in skipped
    assert ("hw3.ipynb, cell 8", "cell magic", ("history",)) in skipped  # what a %%time body sets
    assert ("hw3.ipynb, cell 10, line 1", "__main__ block", ()) in skipped
    assert ("hw3.ipynb, cell 13, line 1", "assignment uses 'model', which only a skipped statement sets",
            ("width",)) in skipped
    assert ("hw3.ipynb, cell 13, line 2", "assignment uses :=", ("flag", "n")) in skipped
    search = next(s for s in prepared.skipped if s.reason == "top-level call")
    assert search.source == "tuner.search(x, y, epochs=50)"
    [problem] = prepared.problems
    assert problem.origin == "hw3.ipynb, cell 9"
    assert problem.message == "SyntaxError: invalid syntax (line 1: 'def broken(:')"
    as_json = prepared.to_json()
    assert as_json["files"] == ["hw3.ipynb"]
    assert {"origin": "hw3.ipynb, cell 7, line 1", "source": "model = build_model(hp)",
            "reason": "assignment calls a function", "names": ["model"], "changes": [],
            "kind": "assignment"} in as_json["skipped"]
    json.dumps(as_json)


def test_notebook_edge_cells(tmp_path):
    cells = (
        "x = !ls\nfiles, dirs = %sx ls\nFILES = 1",
        "def f():\n    %time g()\n    return 1",
        "TEMPLATE = '''\n%d items\n!important\n'''",
        "from __future__ import annotations",
        "from __future__ import braces",
        "@decorator_from_elsewhere\ndef g():\n    pass",  # calling an unknown decorator may run anything
        "long = [" + ", ".join(["compute()"] * 100) + "]",
    )
    write_notebook(tmp_path / "nb.ipynb", *cells)
    prepared = prepare_submission(tmp_path / "nb.ipynb")
    code = prepared.units[0].code
    assert_compiles(code)
    assert code.startswith("from __future__ import annotations\n")
    assert "def f():\n    pass\n    return 1" in code and "%d items\n!important" in code
    reasons = {s.origin: s.reason for s in prepared.skipped}
    assert reasons["nb.ipynb, cell 5, line 1"] == "unknown __future__ feature"
    names = {s.origin: s.names for s in prepared.skipped}
    assert names["nb.ipynb, cell 1, line 1"] == ("x",) and names["nb.ipynb, cell 1, line 2"] == ("files", "dirs")
    assert "FILES = 1" in code and "decorator_from_elsewhere" not in code
    assert reasons["nb.ipynb, cell 6, line 1"] == (
        "definition calls the decorator decorator_from_elsewhere when it is defined (a decorator)")
    [long] = [s for s in prepared.skipped if s.names == ("long",)]
    assert len(long.source) == 200 and long.source.endswith("...")
    assert prepared.to_json()["problems"] == []


def test_statements_needing_a_skipped_name_are_skipped(tmp_path):
    cells = ("strategy = make()", "@strategy.scope\ndef g():\n    pass", "def h():\n    return strategy",
             "EPOCHS = 10\nEPOCHS = tune()\nTOTAL = EPOCHS * 2", "strategy = None\nSAME = strategy")
    write_notebook(tmp_path / "nb.ipynb", *cells)
    prepared = prepare_submission(tmp_path / "nb.ipynb")
    code = prepared.units[0].code
    assert "def g" not in code and "def h" in code  # a body runs later, decorators run now
    # EPOCHS = tune() counts as setting EPOCHS: the kept 10 is forgotten there, so TOTAL would raise NameError
    assert "EPOCHS = 10\ntry:" in code and "del EPOCHS" in code and "TOTAL" not in code
    assert prepared.skipped[-1].reason == "assignment uses 'EPOCHS', which only a skipped statement sets"
    assert "SAME = strategy" in code  # bound again by a kept statement
    assert prepared.skipped[1].reason == "definition uses 'strategy', which only a skipped statement sets"


@pytest.mark.parametrize(
    "text", ["{not json", "[]", "{}", '{"nbformat": 4, "cells": 5}', '"just a string"', "\x00", "[" * 100_000]
)
def test_malformed_notebook_is_refused(tmp_path, text):
    (tmp_path / "hw3.ipynb").write_text(text)
    with pytest.raises(SubmissionLoadError, match="hw3.ipynb is not a"):
        prepare_submission(tmp_path / "hw3.ipynb")


def test_notebook_conflicts_with_py_file(tmp_path):
    write_notebook(tmp_path / "hw3.ipynb", "def build_model(hp):\n    return hp", "model = build_model(1)")
    (tmp_path / "hw3.py").write_text("def build_model(hp):\n    return hp\nmodel = 1\n")
    prepared = prepare_submission(tmp_path)
    assert prepared.conflicts == {"build_model": ("hw3.ipynb", "hw3.py")}
