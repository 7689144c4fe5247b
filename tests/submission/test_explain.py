"""Tests for the messages about missing names and load problems: located by the student's cell and line."""

from __future__ import annotations

import pytest

from graders.submission.explain import (
    locate,
    locate_problems,
    missing_name_message,
    relocate_traceback,
    skipped_hint,
)
from graders.submission.loader import prepare_submission
from tests.submission.student_notebooks import Markdown, write

CELLS = [
    Markdown("# HW3"),
    ("import numpy as np\nimport cv2\nfrom google.colab import drive\n"
     "from tensorflow.keras.layers.experimental import preprocessing"),
    "import keras_tuner as kt\nclass HM(kt.HyperModel):\n    def build(self, hp):\n        return None",
    "build_model = HM().build\nLAYER_TABLE = []\nfor row in rows:\n    LAYER_TABLE.append(row)",
    "def dense_params(in_features, units):\n    return cv2.something(in_features) + units",
]


@pytest.fixture
def prepared(tmp_path):
    return prepare_submission(write(tmp_path / "hw3.ipynb", CELLS))


def joined_line(prepared, cell: int, line: int) -> int:
    """The line of the worker's joined code that holds the student's (cell, line)."""
    return prepared.units[0].line_map.index((cell, line)) + 1


def test_locate_names_the_notebook_cell_and_line(prepared):
    line = joined_line(prepared, 5, 2)
    assert locate(prepared, "hw3_ipynb.py", line) == "hw3.ipynb, cell 5, line 2"
    assert locate(prepared, "hw3.ipynb", line) == "hw3.ipynb, cell 5, line 2"  # by origin too
    assert locate(prepared, "hw3_ipynb.py", line, quote=True) == (
        "hw3.ipynb, cell 5, line 2: return cv2.something(in_features) + units")
    assert locate(prepared, "hw3_ipynb.py", 1) == "hw3.ipynb, cell 2, line 1"  # a cell's header: its first line
    assert locate(prepared, "hw3_ipynb.py", 0) == "hw3.ipynb"
    assert locate(prepared, "other.py", 3) == "other.py, line 3"


def test_locate_a_py_file_by_its_own_lines(tmp_path):
    (tmp_path / "hw3.py").write_text("import os\n\nx = 1\n")
    prepared = prepare_submission(tmp_path / "hw3.py")
    assert locate(prepared, "hw3.py", 3, quote=True) == "hw3.py, line 3: x = 1"


def test_load_problems_are_located_and_say_which_library_is_missing(prepared):
    cv2_line, colab_line = joined_line(prepared, 2, 2), joined_line(prepared, 2, 3)
    problems = [
        {"file": "hw3_ipynb.py", "line": cv2_line, "message": "ModuleNotFoundError: No module named 'cv2'"},
        {"origin": f"hw3.ipynb, line {colab_line}", "message": "ModuleNotFoundError: No module named 'google.colab'"},
        {"file": "hw3_ipynb.py", "line": joined_line(prepared, 2, 4),
         "message": "ModuleNotFoundError: No module named 'tensorflow.keras.layers.experimental'"},
        {"file": "hw3_ipynb.py", "line": 0, "message": "SyntaxError: invalid syntax"},
        "not a dict",
    ]
    cv2, colab, keras2, whole = located = locate_problems(prepared, problems)
    assert [p["origin"] for p in located] == ["hw3.ipynb, cell 2, line 2", "hw3.ipynb, cell 2, line 3",
                                              "hw3.ipynb, cell 2, line 4", "hw3.ipynb"]
    assert cv2["message"].startswith("the library `cv2` (pip name opencv-python) is not installed where the grader")
    assert cv2["message"].endswith("(ModuleNotFoundError: No module named 'cv2')")
    assert colab["message"].startswith("`google.colab` exists only on Colab")
    assert "`tensorflow` is installed, but has no `tensorflow.keras.layers.experimental`" in keras2["message"]
    assert "Keras 3" in keras2["message"] and whole["message"] == "SyntaxError: invalid syntax"
    assert locate_problems(prepared, located) == located  # idempotent


def test_a_name_from_a_failed_import_says_the_library_is_not_installed(prepared):
    hint = skipped_hint(prepared, "cv2")  # as for a NameError inside dense_params, with no load problems
    assert hint == ("`cv2` comes from `import cv2` (hw3.ipynb, cell 2, line 2), which failed when the grader loaded "
                    "your submission: the library `cv2` (pip name opencv-python) is not installed where the grader "
                    "runs, and the grader cannot install packages: do that work with numpy, TensorFlow/Keras or "
                    "keras-tuner instead.")
    assert "`google.colab` exists only on Colab" in skipped_hint(prepared, "drive")
    worker = [{"file": "hw3_ipynb.py", "line": joined_line(prepared, 2, 4),
               "message": "ModuleNotFoundError: No module named 'tensorflow.keras.layers.experimental'"}]
    hint = skipped_hint(prepared, "preprocessing", load_problems=worker)
    assert hint.startswith("`preprocessing` comes from `from tensorflow.keras.layers.experimental import "
                           "preprocessing` (hw3.ipynb, cell 2, line 4), which failed")
    assert "import from `keras`" in hint
    assert "is not defined" not in missing_name_message(prepared, "cv2")


def test_a_function_set_by_a_skipped_assignment_is_to_be_wrapped_in_a_def(prepared):
    message = missing_name_message(prepared, "build_model")
    assert message == (
        "`build_model` is only set by a statement the grader skips (hw3.ipynb, cell 4, line 1: assignment calls a "
        "function): wrap it in a def.\n    build_model = HM().build\n"
        "The grader runs only a notebook's imports, def, class and literal assignments, never its experiments. "
        "For example:\n    def build_model(hp):\n        return HM().build(hp)\n"
        "(The contract: build_model(hp) -> a compiled keras.Model.)")


def test_a_table_filled_by_a_skipped_loop_names_the_loop_as_code(prepared):
    message = missing_name_message(prepared, "LAYER_TABLE", is_global=True)
    assert message.startswith(
        "`LAYER_TABLE` is only filled in by a statement the grader skips (hw3.ipynb, cell 4, line 3: loop): write "
        "the final value of `LAYER_TABLE` as one literal (numbers, strings, tuples, lists, dicts).\n"
        "    for row in rows:\n        LAYER_TABLE.append(row)\n")
    assert "\\n" not in message


def test_a_plain_missing_name_keeps_its_message_and_lists_located_load_problems(prepared):
    problems = [{"origin": f"hw3.ipynb, line {joined_line(prepared, 2, 2)}",
                 "message": "ModuleNotFoundError: No module named 'cv2'"}]
    message = missing_name_message(prepared, "make_tuner", load_problems=problems)
    assert message.startswith("`make_tuner` is not defined in your submission (the contract: make_tuner(")
    assert "did not load: hw3.ipynb, cell 2, line 2: the library `cv2`" in message
    assert missing_name_message(prepared, "grad_cam", detail="`grad_cam` is a dict, not a function") == (
        "`grad_cam` cannot be called: `grad_cam` is a dict, not a function")


def test_tracebacks_name_cells_not_the_graders_copy(prepared):
    line = joined_line(prepared, 5, 2)
    trace = f'Traceback (most recent call last):\n  File "hw3_ipynb.py", line {line}, in dense_params\n' \
            f'  File "/usr/lib/python3.11/x.py", line 3, in f\nNameError: name \'cv2\' is not defined'
    assert relocate_traceback(prepared, trace) == (
        'Traceback (most recent call last):\n  File "hw3.ipynb", cell 5, line 2, in dense_params\n'
        '  File "/usr/lib/python3.11/x.py", line 3, in f\nNameError: name \'cv2\' is not defined')


def test_an_import_of_the_submissions_own_file_is_not_a_missing_library(tmp_path):
    (tmp_path / "helpers.py").write_text("import cv2\n")
    (tmp_path / "hw3.py").write_text("from helpers import conv\n")
    prepared = prepare_submission(tmp_path)
    problem = {"file": "hw3.py", "line": 1, "message": "ModuleNotFoundError: No module named 'helpers'"}
    assert locate_problems(prepared, [problem])[0]["message"] == problem["message"]
    assert skipped_hint(prepared, "conv").endswith("that part of your submission did not load.")


SKIPPED_SHAPE = [
    Markdown("# HW3"),
    "import keras",
    "(x_train, y_train), _ = keras.datasets.mnist.load_data()\nINPUT_SHAPE = x_train.shape[1:]",
    "def build_model(hp):\n    model = keras.Sequential()\n    model.add(keras.Input(shape=INPUT_SHAPE))\n    return model",
    "def build_features():\n    import cv2\n    return cv2",
]


def test_a_probes_causes_get_the_students_place_and_the_hints_a_plain_call_gets(tmp_path):
    """Probes return the student's errors as text (graders/inside/probes/keras_facts.py student_cause)."""
    from graders.submission.explain import explain_causes

    prepared = prepare_submission(write(tmp_path / "hw3.ipynb", SKIPPED_SHAPE))
    use = joined_line(prepared, 4, 3)
    cause = f"NameError: name 'INPUT_SHAPE' is not defined (in hw3_ipynb.py, line {use})"
    result = {"builds": [{"label": "defaults", "error": cause}, {"label": "max", "error": f"training failed: {cause}"}],
              "layers": ["Conv2D", "Dense"], "n": 3, "pair": ("Error: x", 2)}
    explained = explain_causes(prepared, result)
    first = explained["builds"][0]["error"]
    assert first.startswith("NameError: name 'INPUT_SHAPE' is not defined (in hw3.ipynb, cell 4, line 3)\n"
                            "`INPUT_SHAPE` is only set by a statement the grader skips (hw3.ipynb, cell 3, line 2: ")
    assert "    INPUT_SHAPE = x_train.shape[1:]" in first
    assert explained["builds"][1]["error"].startswith("training failed: NameError")
    assert {key: explained[key] for key in ("layers", "n", "pair")} == {"layers": ["Conv2D", "Dense"], "n": 3,
                                                                         "pair": ("Error: x", 2)}
    missing = explain_causes(prepared, "ModuleNotFoundError: No module named 'cv2' (in hw3_ipynb.py, line 3)")
    assert "the library `cv2` (pip name opencv-python) is not installed where the grader runs" in missing
