"""Realistic student notebooks: what the filter keeps and skips, and the message a student reads for each problem."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from graders.questions import BY_NAME
from graders.submission.explain import locate_problems, missing_name_message
from graders.submission.loader import prepare_submission
from graders.submission.notebook import filter_notebook
from tests.submission.student_notebooks import NOTEBOOKS, write

FORGET_LINES = 4  # `try:  # ... (skipped) sets or changes X` / `del X` / `except NameError:` / `pass`


@dataclass(frozen=True)
class Expect:
    """What a notebook must define, and the fragments each missing name's message must contain."""

    defines: tuple[str, ...]
    messages: dict[str, tuple[str, ...]] = field(default_factory=dict)
    load_problems: dict[tuple[int, int], str] = field(default_factory=dict)  # (cell, line) -> worker's message


EXPECTED = {
    "colab": Expect(
        ("build_model", "make_tuner", "grad_cam", "DATA"),
        {"cv2": ("`cv2` comes from `import cv2` (colab.ipynb, cell 4, line 2), which failed",
                 "the library `cv2` (pip name opencv-python) is not installed where the grader runs")},
        {(2, 1): "ModuleNotFoundError: No module named 'google.colab'",
         (4, 2): "ModuleNotFoundError: No module named 'cv2'"}),
    "experiments": Expect(
        ("build_model", "make_tuner"),
        {"BEST_HYPERPARAMETERS": (("`BEST_HYPERPARAMETERS` is only set by a statement the grader skips "
                                  "(experiments.ipynb, cell 5, line 1: assignment uses 'best_hps', which only a "
                                  "skipped statement sets): write the final value of `BEST_HYPERPARAMETERS` as "
                                  "one literal (numbers, strings, tuples, lists, dicts).\n"
                                  "    BEST_HYPERPARAMETERS = best_hps.values\n"),),
         "BEST_VAL_ACCURACY": (("(experiments.ipynb, cell 5, line 3: assignment calls a function): write the final "
                               "value of `BEST_VAL_ACCURACY` as one literal (numbers, strings, tuples, lists, dicts).\n"
                               "    BEST_VAL_ACCURACY = tuner.oracle.get_best_trials(1)[0].score\n"),)}),
    "hypermodel": Expect(
        ("MNISTHyperModel", "make_tuner"),
        {"build_model": ("(hypermodel.ipynb, cell 3, line 2: assignment calls a function): wrap it in a def.\n",
                         ("For example:\n    def build_model(hp):\n"
                          "        return MNISTHyperModel(num_classes=10).build(hp)"))}),
    "dataclasses": Expect(("Padding", "Conv", "Row", "conv_output_size", "LAYER_TABLE")),
    "decorators": Expect(
        ("timed", "solved", "conv2d_params", "dense_params", "SOLVED"),
        {"lstm_params": (("`lstm_params` is defined by a statement the grader skips (decorators.ipynb, cell 6, line 1: "
                         "definition calls the decorator solved when it is defined (a decorator)): "
                         "remove that decorator.\n"
                         "    @solved\n    def lstm_params(input_dim, units):\n"),)}),
    "custom_layers": Expect(
        ("Standardize", "TrackedRegressor", "build_regressor"),
        {"WarmStart": (("(custom_layers.ipynb, cell 4, line 1: definition calls keras.models.load_model(...) "
                        "when it is defined (the class body)): move that code into a method"),)}),
    "loops": Expect(
        ("conv2d_params", "lstm_params", "same_padding", "NETWORK", "Q6A_ANSWER", "ANSWERS"),
        {"LAYER_TABLE": (("`LAYER_TABLE` is only filled in by a statement the grader skips (loops.ipynb, cell 4, "
                         "line 4: loop): write the final value of `LAYER_TABLE` as one literal"),
                         ").\n    for layer in NETWORK:\n        if layer[0] == 'conv':\n"),
         "FC_BN_PARAMS": (("`FC_BN_PARAMS` is only filled in by a statement the grader skips (loops.ipynb, cell 5, "
                          "line 2: assignment calls a function): write the final"),
                          ").\n    FC_BN_PARAMS['fc'] = dense_params(256, 128)\n")}),
    "defaults_run_search": Expect(
        ("run_search", "conv2d_params", "dense_params", "simple_rnn_params", "lstm_params", "gru_params"),
        {"summarize": (("(defaults_run_search.ipynb, cell 3, line 1: definition calls run_search() when it is "
                       "defined (a default value)): move that call into the function body.\n"
                       "    def summarize(best=run_search()):\n"),),
         "Experiment": ("definition runs a loop when it is defined (the class body)",)}),
    "tf_keras2": Expect(
        ("Scale", "build_mnist_cnn"),
        {"preprocessing": (("`preprocessing` comes from `from tensorflow.keras.layers.experimental import "
                           "preprocessing` (tf_keras2.ipynb, cell 1, line 4), which failed"),
                           "`tensorflow` is installed, but has no `tensorflow.keras.layers.experimental`",
                           "import from `keras`")},
        {(1, 4): "ModuleNotFoundError: No module named 'tensorflow.keras.layers.experimental'"}),
    "script_style": Expect(
        ("batchnorm_forward", "main"),
        {"results": ("(script_style.ipynb, cell 3: cell magic): compute `results` inside the function that needs it",
                     "literal.\n    %%time\n    results = {}\n")}),
    "annotations": Expect(
        ("same_padding", "Q6A_ANSWER"),
        {"pool_output_size": ("definition calls np.dtype(...) when it is defined (an annotation)",
                              "): write the annotation without a call.\n")}),
    "filled_by_function": Expect(
        ("conv_output_size", "add_row", "fill_table"),
        {"LAYER_TABLE": ("(filled_by_function.ipynb, cell 3, line 1: top-level call): write the final value",
                         ").\n    fill_table()\n")}),
    "subclass_hooks": Expect(
        ("Question", "Plain", "gru_params"),
        {"Q6": ("definition runs Question.__init_subclass__ when it is defined (a base class)",
                "derive from a class whose definition runs none of your code")}),
}


def test_every_notebook_has_expectations():
    assert sorted(EXPECTED) == sorted(NOTEBOOKS) and len(NOTEBOOKS) >= 10


@pytest.fixture(params=sorted(NOTEBOOKS))
def case(request, tmp_path):
    path = write(tmp_path / f"{request.param}.ipynb", NOTEBOOKS[request.param])
    return request.param, path, prepare_submission(path)


def test_kept_code_compiles_and_defines_the_answers(case):
    name, path, prepared = case
    [unit] = prepared.units
    compile(unit.code, unit.filename, "exec")
    definitions = filter_notebook(path.read_text(), origin=path.name).definitions
    assert set(EXPECTED[name].defines) <= set(definitions)
    assert not set(EXPECTED[name].messages) & set(definitions)


def test_every_kept_line_maps_back_to_the_students_cell_and_line(case):
    name, _, prepared = case
    [unit] = prepared.units
    cells = NOTEBOOKS[name]
    skipped_lines = {s.origin for s in prepared.skipped}
    grader_lines = 0
    for text, (cell, line) in zip(unit.code.split("\n"), unit.line_map, strict=True):
        if text.startswith("try:  # ") and "(skipped) sets or changes" in text:
            grader_lines = FORGET_LINES  # where a skipped statement changes a kept value: mapped to it
        if cell == 0:
            assert text.startswith(f"# --- {name}.ipynb, cell ")
        elif grader_lines:
            grader_lines -= 1
            assert f"{name}.ipynb, cell {cell}, line {line}" in skipped_lines
        else:
            assert cells[cell - 1].split("\n")[line - 1].startswith(text)


def test_skipped_statements_are_shown_as_the_students_code(case):
    name, _, prepared = case
    for skipped in prepared.skipped:
        cell, _, line = skipped.origin.removeprefix(f"{name}.ipynb, cell ").partition(", line ")
        student_line = NOTEBOOKS[name][int(cell) - 1].split("\n")[int(line or 1) - 1]
        assert skipped.source.split("\n")[0] == student_line.strip()
        assert "\\n" not in skipped.source


def test_each_missing_name_says_which_statement_and_how_to_fix_it(case):
    name, _, prepared = case
    expect = EXPECTED[name]
    [unit] = prepared.units
    problems = [{"file": unit.filename, "line": unit.line_map.index(place) + 1, "message": message}
                for place, message in expect.load_problems.items()]
    for missing, fragments in expect.messages.items():
        entry = BY_NAME.get(missing)
        message = missing_name_message(prepared, missing, is_global=entry is not None and not entry.function,
                                       load_problems=problems)
        for fragment in fragments:
            assert fragment in message, f"{missing}: {fragment!r} not in\n{message}"
        assert "is not defined in your submission" not in message and "_ipynb.py" not in message


def test_load_problems_of_each_notebook_are_located_by_cell(case):
    name, _, prepared = case
    [unit] = prepared.units
    for (cell, line), message in EXPECTED[name].load_problems.items():
        worker = {"origin": f"{name}.ipynb, line {unit.line_map.index((cell, line)) + 1}", "message": message}
        [located] = locate_problems(prepared, [worker])
        assert located["origin"] == f"{name}.ipynb, cell {cell}, line {line}"
        assert not located["message"].startswith("ModuleNotFoundError")


@pytest.mark.slow  # starts workers; the colab notebook imports Keras in its worker
def test_the_worker_loads_notebooks_without_their_experiments_and_messages_name_cells(tmp_path):
    from graders.core.errors import MissingName, StudentException
    from graders.harness.student import StudentSandbox as Sandbox  # the sandbox as graders use it
    from graders.sandbox.sandbox import SandboxConfig

    def sandbox(name):
        prepared = prepare_submission(write(tmp_path / f"{name}.ipynb", NOTEBOOKS[name]))
        return prepared, Sandbox(prepared, seed=1, config=SandboxConfig(load_timeout_s=60))

    prepared, box = sandbox("defaults_run_search")  # `def summarize(best=run_search())` would sleep an hour
    with box:
        assert box.call("lstm_params", 3, 5) == 4 * (5 * (3 + 5) + 5)
        assert box.load_seconds < 30
    prepared, box = sandbox("loops")
    with box, pytest.raises(MissingName) as missing:
        assert box.call("dense_params", 256, 128) == 32896
        box.get("LAYER_TABLE")
    assert "(loops.ipynb, cell 4, line 4: loop): write the final value" in str(missing.value)
    assert ").\n    for layer in NETWORK:\n" in str(missing.value)
    prepared, box = sandbox("colab")
    with box, pytest.raises(StudentException) as raised:
        box.call("grad_cam", None, [[0.0]], "conv")
    assert "`cv2` comes from `import cv2` (colab.ipynb, cell 4, line 2)" in str(raised.value)
    located = {p["origin"]: p["message"] for p in locate_problems(prepared, box.load_problems)}
    assert located["colab.ipynb, cell 2, line 1"].startswith("`google.colab` exists only on Colab")
    assert located["colab.ipynb, cell 4, line 2"].startswith("the library `cv2` (pip name opencv-python) is not")


SAMPLES = {  # what the notebook samples under submissions/ skip: (origin, names it sets)
    "notebook": [("hw3.ipynb, cell 2, line 1", ()), ("hw3.ipynb, cell 8, line 1", ("x",)),
                 ("hw3.ipynb, cell 8, line 2", ("started",)), ("hw3.ipynb, cell 8, line 3", ("x",)),
                 ("hw3.ipynb, cell 8, line 5", ()), ("hw3.ipynb, cell 9, line 1", ("history",))],
    "notebook_definitions_run_search": [
        ("hw3.ipynb, cell 5, line 1", ("summarize",)), ("hw3.ipynb, cell 6, line 1", ("Sweep",)),
        ("hw3.ipynb, cell 8, line 5", ("tuned_units",)), ("hw3.ipynb, cell 8, line 9", ("units_for",)),
        ("hw3.ipynb, cell 9, line 6", ("ConvBlock",)), ("hw3.ipynb, cell 9, line 9", ("Tagged",)),
        ("hw3.ipynb, cell 10, line 6", ("Model",)), ("hw3.ipynb, cell 18, line 1", ())],
    "notebook_skipped_assignments": [
        ("hw3.ipynb, cell 2, line 2", ()), ("hw3.ipynb, cell 3, line 1", ()), ("hw3.ipynb, cell 3, line 2", ()),
        ("hw3.ipynb, cell 7, line 1", ("build_model",)), ("hw3.ipynb, cell 9, line 1", ("tuner",)),
        ("hw3.ipynb, cell 9, line 2", ()),
        ("hw3.ipynb, cell 14, line 6", ("kind", "spec", "filters", "kernel", "stride", "dilation", "padding", "size",
                                        "params", "channels", "LAYER_TABLE")),
        ("hw3.ipynb, cell 14, line 16", ())],
}


@pytest.mark.parametrize("sample", SAMPLES)
def test_the_notebook_samples_skip_exactly_their_experiments(sample):
    from tests.grading import sample_path

    prepared = prepare_submission(sample_path(sample))
    assert [(s.origin, s.names) for s in prepared.skipped] == SAMPLES[sample]
