"""Each student's code for a question: the contract's names, the helpers they use, nothing else."""

import nbformat

from graders.similarity.extract import code_from_source, question_code, read_submission

SUBMISSION = '''
import math

SIDE = 256  # a helper global


def _span(kernel, dilation):
    return dilation * (kernel - 1) + 1


def _unused():
    return "not part of any answer"


def conv_output_size(size, kernel, stride=1, padding="valid", dilation=1):
    return (size - _span(kernel, dilation)) // stride + 1


def pool_output_size(size, pool, stride=None, padding="valid"):
    return conv_output_size(size, pool, stride or pool, padding)


def dense_params(in_features, units):
    return in_features * units + units


def same_padding(size, kernel, stride=1, dilation=1):
    total = max((math.ceil(size / stride) - 1) * stride + _span(kernel, dilation) - size, 0)
    dense_params(1, 1)  # another question's function: compared there, not here
    return total // 2, total - total // 2


LAYER_TABLE = [((SIDE, SIDE, 64), 1792)]
Q6A_ANSWER = 2
'''


def names(code):
    return [d.name for d in code.definitions]


def test_contract_functions_and_their_helpers_transitively_in_the_order_written():
    code = code_from_source(SUBMISSION, "q5")
    assert names(code) == ["_span", "conv_output_size", "pool_output_size", "same_padding"]
    assert code.roots == ("conv_output_size", "pool_output_size", "same_padding")
    assert "_unused" not in code.text and "def dense_params" not in code.text


def test_a_literal_contract_constant_is_left_out_and_a_computed_one_brings_its_globals():
    assert code_from_source(SUBMISSION, "q6") is None  # Q6A_ANSWER = 2 only: every right answer is that literal
    computed = SUBMISSION.replace("LAYER_TABLE = [((SIDE, SIDE, 64), 1792)]", "LAYER_TABLE = [(SIDE, conv_output_size(SIDE, 3))]")
    assert {"LAYER_TABLE", "SIDE"} <= set(names(code_from_source(computed, "q5")))


def test_the_text_keeps_comments_and_maps_each_definition_to_its_lines():
    code = code_from_source(SUBMISSION, "q5")
    lines = code.text.splitlines()
    same_padding = code.names["same_padding"]
    assert lines[code.display_line(same_padding, same_padding.node.lineno) - 1].startswith("def same_padding")
    assert "# another question's function" in code.text


def test_a_later_definition_replaces_an_earlier_one_across_files(tmp_path):
    (tmp_path / "a.py").write_text("def dense_params(a, b):\n    return 0\n")
    (tmp_path / "b.py").write_text("def dense_params(a, b):\n    return a * b + b  # the fixed one\n")
    code = question_code(read_submission(tmp_path), "q4")
    assert "the fixed one" in code.text and "return 0" not in code.text


def test_a_notebook_is_read_through_the_notebook_filter(tmp_path):
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("%matplotlib inline\nimport numpy as np"),
        nbformat.v4.new_code_cell("def dense_params(in_features, units):\n    return in_features * units + units"),
        nbformat.v4.new_code_cell("history = model.fit(x, y, epochs=100)"),
    ])
    nbformat.write(notebook, tmp_path / "hw3.ipynb")
    submission = read_submission(tmp_path / "hw3.ipynb")
    code = question_code(submission, "q4")
    assert names(code) == ["dense_params"] and submission.aliases["np"] == "numpy"
    assert question_code(submission, "q7") is None


def test_import_aliases_are_resolved_to_module_paths():
    code = code_from_source("import numpy as np\nfrom keras import layers as L\nfrom math import ceil\n"
                            "def dense_params(a, b):\n    return a", "q4")
    assert code.aliases == {"np": "numpy", "L": "keras.layers", "ceil": "math.ceil"}
